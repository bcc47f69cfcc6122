"""English and Chinese strings: one way to look them up, for figures, reports and the dashboard.

Each module keeps its own table of ``key → (English, 中文)`` next to the code that uses it;
:func:`translate` is the single lookup, so a missing key or an unknown language fails the
same way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS: tuple[str, ...] = ("en", "zh")


def check_lang(lang: str) -> str:
    """``lang`` itself when it is a supported language; otherwise a one-line ValueError."""
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r}; allowed: 'en' or 'zh'")
    return lang


def translate(table: Mapping[str, tuple[str, str]], key: str, lang: str, **fields: object) -> str:
    """The ``lang`` version of ``table[key]`` with ``{fields}`` filled in."""
    en, zh = table[key]
    return (zh if check_lang(lang) == "zh" else en).format(**fields)


# What each of the six levers does, in one sentence a workshop participant can read next to its
# slider (the mechanisms are docs/ODD.md §7.8–7.9).
LEVER_EXPLANATIONS: dict[str, tuple[str, str]] = {
    "embedding": (
        "Party branches reach more buildings and organisations; members ask neighbours to take part "
        "and report their needs.",
        "党组织覆盖更多楼栋和组织；党员动员邻里参与并反映需求。",
    ),
    "converging": (
        "Organisations and street departments pool resources; coordination makes the pooled "
        "capacity larger than its parts.",
        "辖区单位和街道部门把资源汇聚起来；协调让合力大于各自之和。",
    ),
    "linking": (
        "The community committee brokers outside resources into services, limited by venues and "
        "by its own team.",
        "社区居委会链接外部资源转化为服务，受场地和工作力量所限。",
    ),
    "immersion": (
        "Consultation and civic education: residents learn, are heard and are more easily mobilised.",
        "协商议事与公民教育：居民得到培育、意见被听见，也更容易被动员。",
    ),
    "conduction": (
        "Standardised hand-offs from above: more of the special funds arrive and fewer extra "
        "tasks pile up on the community workers.",
        "规范上级下沉：专项资金更多到位，层层加码的任务更少压到社区工作者身上。",
    ),
    "integration": (
        "Cross-appointment of the Party branch, owners' committee and property company: better "
        "need information, fewer conflicts, more mediation.",
        "党组织、业委会与物业交叉任职：需求信息更准，矛盾更少，调解更多。",
    ),
}

# Kinds of residential compound (小区), by who manages them.
COMPOUND_KINDS: dict[str, tuple[str, str]] = {
    "owners": ("Property company and owners' committee", "物业 + 业委会"),
    "managed": ("Property company, no owners' committee", "有物业，无业委会"),
    "unmanaged": ("No property management", "无物业管理"),
}

# Words every presentation of results uses.
WORDS: dict[str, tuple[str, str]] = {
    "baseline": ("Baseline (no levers)", "基线（不启用举措）"),
    "modified": ("modified", "已修改"),
    "week": ("Week", "周"),
    "branch": ("branch", "分支"),
    "change": ("change", "调整"),
}


def word(key: str, lang: str = "en") -> str:
    """A shared domain word from :data:`WORDS` in English or Chinese."""
    return translate(WORDS, key, lang)
