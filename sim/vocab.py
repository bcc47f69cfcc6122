"""English and Chinese strings: one way to look them up, for figures, reports and the dashboard.

The domain's own words (levers, service channels, need categories, household profiles,
community presets) are named here once, for the model's metric labels, the figures, the
reports and the dashboard alike. Strings that belong to one screen (a button, an axis title)
stay in a ``key → (English, 中文)`` table next to the code that uses them; :func:`translate`
is the single lookup, so a missing key or an unknown language fails the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS: tuple[str, ...] = ("en", "zh")

#: the six levers (六入), in the essay's order
LEVER_WORDS: dict[str, tuple[str, str]] = {
    "embedding": ("Embedding", "嵌入"),
    "converging": ("Converging", "汇入"),
    "linking": ("Linking", "链入"),
    "immersion": ("Immersion", "浸入"),
    "conduction": ("Conduction", "导入"),
    "integration": ("Integration", "融入"),
}
#: the four service channels (四位一体): who provides; and the service each provides
CHANNEL_WORDS: dict[str, tuple[str, str]] = {
    "government": ("Government", "政府"),
    "social": ("Social organisations", "社会组织"),
    "volunteer": ("Volunteers", "志愿者"),
    "market": ("Property company", "物业（市场）"),
}
CHANNEL_SERVICE_WORDS: dict[str, tuple[str, str]] = {
    "government": ("Government service", "政府服务"),
    "social": ("Social service", "社会服务"),
    "volunteer": ("Volunteer service", "志愿服务"),
    "market": ("Market service", "市场服务"),
}
#: the five need categories
CATEGORY_WORDS: dict[str, tuple[str, str]] = {
    "care": ("Care", "照护"),
    "family": ("Family", "家庭"),
    "property": ("Property", "物业"),
    "safety": ("Safety", "安全"),
    "dispute": ("Disputes", "纠纷"),
}
#: household profiles
PROFILE_WORDS: dict[str, tuple[str, str]] = {
    "elderly": ("Elderly", "老年"),
    "family": ("Family", "家庭"),
    "worker": ("Worker", "上班族"),
}
#: community size presets
PRESET_WORDS: dict[str, tuple[str, str]] = {
    "workshop": ("Workshop", "工作坊"),
    "community": ("Community", "社区"),
    "street": ("Street", "街道"),
    "metro": ("Metro (scaling only)", "特大城市（仅测规模）"),
}


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


def domain_word(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """A domain word in ``lang`` (the key itself when the table does not know it)."""
    if key not in table:
        check_lang(lang)
        return key
    return translate(table, key, lang)
