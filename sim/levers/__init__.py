"""The six levers (六入) by which grassroots Party building leads community governance.

One module per lever. Each holds the lever's config dataclass (an ``intensity`` in [0, 1],
its time window, its cost per unit and its own documented parameters) and the functions
that apply it to the model's state at its place in the weekly schedule (MODEL.md §2):

========== ========= ==============================================================
lever      步骤       where it acts in a step
========== ========= ==============================================================
embedding  嵌入      coverage (start), need reporting (5), recruitment asks (10)
converging 汇入      contributions and joint capacity (2), learning (12)
linking    链入      brokered resources and capacity (3)
immersion  浸入      consultation (5), mobilisation (10, 11), education (10)
conduction 导入      hand-offs, tasks and effective capacity (1)
integration 融入     channel coordination (5, 6), conflicts and mediation (8)
========== ========= ==============================================================
"""

from sim.levers import conduction, converging, embedding, immersion, integration, linking

LEVERS = ("embedding", "converging", "linking", "immersion", "conduction", "integration")
LEVER_TITLES = {
    "embedding": ("Embedding", "嵌入"),
    "converging": ("Converging", "汇入"),
    "linking": ("Linking", "链入"),
    "immersion": ("Immersion", "浸入"),
    "conduction": ("Conduction", "导入"),
    "integration": ("Integration", "融入"),
}

__all__ = [
    "LEVERS",
    "LEVER_TITLES",
    "conduction",
    "converging",
    "embedding",
    "immersion",
    "integration",
    "linking",
]
