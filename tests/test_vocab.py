"""The catalogue of strings: both languages for every entry, and every key the code asks for."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import sim
from sim import vocab
from sim.vocab import Strings, parse_catalogue, strings


def test_every_entry_has_both_languages_with_the_same_placeholders() -> None:
    catalogue = vocab._catalogue()
    assert len(catalogue) >= 18
    for section, table in catalogue.items():
        for key, (en, zh) in table.items():
            assert en.strip() and zh.strip(), f"{section}.{key}"
            assert vocab.placeholders(en) == vocab.placeholders(zh), f"{section}.{key}"


def test_a_section_fills_itself_in_and_reads_as_a_table() -> None:
    text = strings("dashboard")
    assert text("week", "zh", n=3) == "第 3 周"
    assert text("week", n=3) == "Week 3"
    assert text["reset"] == ("Reset", "重置")
    assert "reset" in text and len(text) == len(list(text))
    with pytest.raises(ValueError, match="lang='fr'; allowed: 'en' or 'zh'"):
        text("week", "fr", n=3)


def test_an_unknown_section_names_the_sections_there_are() -> None:
    with pytest.raises(KeyError, match=r"section='dashbord'; allowed: one of .*'dashboard'"):
        strings("dashbord")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "app:\n  ok: {en: Go, zh: 走}\n  bad: {en: Go}\n",
            r"app\.bad=\{'en': 'Go'\}; allowed: a mapping of en and zh",
        ),
        (
            "app:\n  bad: {en: '', zh: 走}\n",
            r"app\.bad=.*allowed: a mapping of en and zh to non-empty strings",
        ),
        ("app:\n  bad: {en: 'Week {n}', zh: 第 周}\n", r"app\.bad fills \['n'\] in en and \[\] in zh"),
        ("app: [1, 2]\n", r"app=\[1, 2\]; allowed: a mapping of keys to entries"),
    ],
)
def test_a_malformed_entry_is_refused_in_one_line_naming_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_catalogue(text, "strings.yaml")
    assert "\n" not in str(caught.value)


def _modules() -> list[str]:
    names = ["sim.vocab"]
    for info in pkgutil.walk_packages(sim.__path__, "sim."):
        if ".cli." in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return names


def _resolve(node: ast.expr, namespace: dict[str, object]) -> object:
    if isinstance(node, ast.Name):
        return namespace.get(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(node.value, namespace), node.attr, None)
    return None


def test_every_key_the_code_asks_for_is_in_its_section() -> None:
    """Each literal key a module looks up in a section (``text("reset")``, ``_t["best"]``) exists.

    A mistyped key would otherwise only fail when that screen or sentence is first shown.
    """
    read_sections: set[str] = set()
    checked = 0
    for name in _modules():
        module = importlib.import_module(name)
        source = Path(module.__file__ or "")
        if source.suffix != ".py":
            continue
        namespace = vars(module)
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args:
                table, key = _resolve(node.func, namespace), node.args[0]
                if (
                    isinstance(node.func, ast.Name)
                    and node.func.id == "strings"
                    and isinstance(key, ast.Constant)
                ):
                    read_sections.add(key.value)
                    continue
            elif isinstance(node, ast.Subscript):
                table, key = _resolve(node.value, namespace), node.slice
            else:
                continue
            if isinstance(table, Strings) and isinstance(key, ast.Constant) and isinstance(key.value, str):
                assert key.value in table, f"{name}:{node.lineno}: {key.value!r} is not in {table.section}"
                checked += 1
    assert checked > 250  # 274 literal keys when this was written
    # and no section of the catalogue is left unread
    assert set(vocab._catalogue()) == read_sections
