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


def word(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """A domain word in ``lang`` (the key itself when the table does not know it)."""
    if key not in table:
        check_lang(lang)
        return key
    return translate(table, key, lang)
