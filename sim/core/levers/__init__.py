"""The six levers (六入) by which grassroots Party building leads community governance.

One module per lever. Each holds the lever's config dataclass (an ``intensity`` in [0, 1],
its time window, its cost per unit and its own documented parameters) and the functions
that apply it to the model's state at its place in the weekly schedule (docs/design.md §2):

=========== ====== ===============================================================
lever       六入   where it acts in a step
=========== ====== ===============================================================
embedding   嵌入   coverage and reach (after 1), need reporting (5), asks (10)
converging  汇入   contributions and joint capacity (2), learning (12)
linking     链入   brokered resources and capacity (3)
immersion   浸入   consultation (5), education (10), recruitment effect ρ (11)
conduction  导入   hand-offs, special funds, tasks and effective capacity (1)
integration 融入   need information and channel overlap (5, 6), conflicts and mediation (8)
=========== ====== ===============================================================

Every lever acts through its effective intensity k (after its time window and the weekly
budget, see :meth:`sim.core.model.CommunityModel.lever_intensities`); at k = 0 it changes nothing.
The full submodels, with equations and parameter tables, are in ``docs/ODD.md`` §7.9.
"""

from sim.core.levers import conduction, converging, embedding, immersion, integration, linking
from sim.vocab import LEVER_WORDS as LEVER_TITLES

LEVERS = tuple(LEVER_TITLES)

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
