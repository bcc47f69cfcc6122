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
