"""English and Chinese strings: one catalogue, one way to look them up.

The strings the project shows people (the domain's words, the figures' titles, the
dashboard's buttons, the reports' sentences) are kept in ``sim/strings.yaml``, section by
section, each entry with its ``en`` and ``zh`` versions. A translator edits that file alone;
the code reads a section as a ``key → (English, 中文)`` table with :func:`strings` and fills
it in with :func:`translate`, so a missing key or an unknown language fails the same way
everywhere. The domain's own words (levers, service channels, need categories, household
profiles, community presets) are named once, for the model's metric labels, the figures, the
reports and the dashboard alike. A metric's labels stay with its declaration
(:data:`sim.core.metrics.METRICS`), a scenario's title and description with its config.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterator, Mapping
from importlib import resources

import yaml

LANGS: tuple[str, ...] = ("en", "zh")
CATALOGUE = "strings.yaml"
# libyaml's safe loader where PyYAML is built with it (eight times faster here), else Python's
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_catalogue(text: str, name: str = CATALOGUE) -> dict[str, dict[str, tuple[str, str]]]:
    """Sections → ``key → (English, 中文)`` tables from the YAML text of a catalogue.

    A malformed entry is refused in one line naming it: each must map ``en`` and ``zh`` to
    non-empty strings that fill in the same ``{placeholders}``.
    """
    raw = yaml.load(text, Loader=_SafeLoader)
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: {type(raw).__name__}; allowed: a mapping of sections")
    catalogue: dict[str, dict[str, tuple[str, str]]] = {}
    for section, entries in raw.items():
        if not isinstance(entries, dict):
            raise ValueError(f"{name}: {section}={entries!r}; allowed: a mapping of keys to entries")
        table: dict[str, tuple[str, str]] = {}
        for key, entry in entries.items():
            where = f"{name}: {section}.{key}"
            if (
                not isinstance(entry, dict)
                or set(entry) != set(LANGS)
                or not all(isinstance(v, str) and v for v in entry.values())
            ):
                raise ValueError(f"{where}={entry!r}; allowed: a mapping of en and zh to non-empty strings")
            en, zh = entry["en"], entry["zh"]
            if placeholders(en) != placeholders(zh):
                raise ValueError(
                    f"{where} fills {sorted(placeholders(en))} in en and {sorted(placeholders(zh))} "
                    "in zh; allowed: the same placeholders in both"
                )
            table[str(key)] = (en, zh)
        catalogue[str(section)] = table
    return catalogue


@functools.cache
def _catalogue() -> dict[str, dict[str, tuple[str, str]]]:
    return parse_catalogue(resources.files("sim").joinpath(CATALOGUE).read_text(encoding="utf-8"))


class Strings(Mapping[str, tuple[str, str]]):
    """One section of the catalogue: a ``key → (English, 中文)`` table that also fills itself in.

    ``text = strings("dashboard")`` gives ``text["reset"] == ("Reset", "重置")`` and
    ``text("week", "zh", n=3) == "第 3 周"``.
    """

    def __init__(self, section: str, table: Mapping[str, tuple[str, str]]) -> None:
        self.section = section
        self._table = dict(table)

    def __getitem__(self, key: str) -> tuple[str, str]:
        return self._table[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __call__(self, key: str, lang: str = "en", /, **fields: object) -> str:
        """The ``lang`` version of the string ``key`` with ``{fields}`` filled in."""
        return translate(self, key, lang, **fields)


def strings(section: str) -> Strings:
    """One section of the catalogue (``sim/strings.yaml``)."""
    catalogue = _catalogue()
    if section not in catalogue:
        raise KeyError(f"section={section!r}; allowed: one of {sorted(catalogue)}")
    return Strings(section, catalogue[section])


def placeholders(text: str) -> set[str]:
    """The ``{field}`` names a string fills in (its format spec aside)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


#: the six levers (六入), in the essay's order
LEVER_WORDS = strings("levers")
#: the four service channels (四位一体): who provides; and the service each provides
CHANNEL_WORDS = strings("channels")
CHANNEL_SERVICE_WORDS = strings("channel_services")
#: the five need categories
CATEGORY_WORDS = strings("need_categories")
#: household profiles
PROFILE_WORDS = strings("household_profiles")
#: community size presets
PRESET_WORDS = strings("presets")
#: what each of the six levers does, in one sentence a workshop participant can read next to
#: its slider (the mechanisms are docs/ODD.md §7.8–7.9)
LEVER_EXPLANATIONS = strings("lever_explanations")
#: kinds of residential compound (小区), by who manages them
COMPOUND_KINDS = strings("compound_kinds")
#: words every presentation of results uses
WORDS = strings("words")


def check_lang(lang: str) -> str:
    """``lang`` itself when it is a supported language; otherwise a one-line ValueError."""
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r}; allowed: 'en' or 'zh'")
    return lang


def translate(table: Mapping[str, tuple[str, str]], key: str, lang: str, /, **fields: object) -> str:
    """The ``lang`` version of ``table[key]`` with ``{fields}`` filled in."""
    en, zh = table[key]
    return (zh if check_lang(lang) == "zh" else en).format(**fields)


def word(key: str, lang: str = "en") -> str:
    """A shared domain word from :data:`WORDS` in English or Chinese."""
    return translate(WORDS, key, lang)


def domain_word(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """A domain word in ``lang`` (the key itself when the table does not know it)."""
    if key not in table:
        check_lang(lang)
        return key
    return translate(table, key, lang)
