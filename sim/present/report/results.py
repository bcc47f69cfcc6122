"""The report of a run, a scenario set or a sweep: what was run, takeaways, figures and a summary
table of the final week (replicate mean and 95% interval).

A sweep of the design sweeper opens with what ``sim-analyse`` found (its tables in
``SWEEP/analysis/``: Sobol, Morris, tipping points). The footer says what made the results: the
provenance block of each run's ``summary.json`` and of a sweep's ``design.json`` (version, git
commit, command line, Python, platform, seeds, key dependency versions).

Why one module of this length: a run, a scenario set and a sweep share one :class:`Source`,
one page and one summary table; what differs between them is a few lines in each function.
"""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sim.present import plots
from sim.present.report import story
from sim.results import (
    BUILDINGS_FILE,
    COLLECTED_FILE,
    COLLECTION_RECORD,
    METRICS_FILE,
    SUMMARY_FILE,
    find_runs,
    load,
)
from sim.results.layout import ANALYSIS_DIR, DESIGN_FILE
from sim.vocab import check_lang, strings

__all__ = [
    "PNG_DIR",
    "REPORT_FILE",
    "Source",
    "build_report",
    "provenance_html",
    "read_source",
    "summary_table",
]

REPORT_FILE = "report.html"
PNG_DIR = "report_png"
#: what sim-analyse writes into SWEEP/analysis/ and the report reads (sim.cli.analyse)
ANALYSIS_TABLES = ("sobol", "convergence", "morris", "tipping")

KEY_METRICS = ("satisfaction", "participation", "trust", "unmet_need")
SUMMARY_METRICS = (
    "satisfaction",
    "participation",
    "trust",
    "unmet_need",
    "need_information",
    "conflicts_open",
    "satisfaction_gain",
    "cost",
)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAX_TABLE_ROWS = 200

_t = strings("report_run")


# ------------------------------------------------------------------------------ input
@dataclass
class Source:
    """What a report is made from: the tables and what kind of result they are."""

    path: Path
    kind: str  # "run" | "scenarios" | "sweep"
    metrics: pd.DataFrame
    buildings: pd.DataFrame | None = None
    varying: list[str] = field(default_factory=list)
    #: column naming each run or sweep point ("run" for folders of runs, "point" for sim-collect)
    unit: str | None = None
    #: column naming the compared arms of a scenario set ("scenario.name" or a design's "arm")
    arms: str | None = None
    #: the PARTIAL note of a table collected with points missing (shown on top of the report)
    partial: str | None = None
    #: the design record of the design sweeper (design.json), None for other results
    design: dict[str, Any] | None = None
    #: the tables sim-analyse wrote into SWEEP/analysis/ (sobol, convergence, morris, tipping)
    analysis: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: the provenance blocks of design.json and of the runs' summary.json ("origin": design|run)
    provenance: list[dict[str, Any]] = field(default_factory=list)


def _varying(df: pd.DataFrame) -> list[str]:
    """Parameter columns (dotted names and ``budget``) that take more than one value."""
    cols = [c for c in df.columns if ("." in c or c in ("budget", "seed")) and not c.startswith("scenario.")]
    return [c for c in cols if df[c].nunique(dropna=False) > 1]


def _add_constants(metrics: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A collected table keeps the parameters that never vary in its metadata: put them back."""
    from sim.results import collected_constants

    try:
        constants = collected_constants(path)
    except (OSError, ValueError):
        return metrics
    extra = {
        k: v for k, v in constants.items() if k not in metrics.columns and not isinstance(v, list | dict)
    }
    if not extra:
        return metrics
    # one concat rather than a column at a time: the table can be wide
    return pd.concat([metrics, pd.DataFrame(extra, index=metrics.index)], axis=1)


def read_source(path: str | os.PathLike[str], allow_missing: bool = False) -> Source:
    """Load a run directory, a directory of runs or a collected sweep table and classify it.

    A collected table is verified first (edited, stale or, unless ``allow_missing``, partial
    tables are refused: :func:`sim.results.integrity.verify_collection`)."""
    from sim.present.report.folder import ALLOWED

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"PATH={path} does not exist; {ALLOWED}")
    if path.is_file():
        if path.suffix != ".parquet":
            raise ValueError(f"PATH={path} is not a .parquet table; {ALLOWED}")
        metrics = _add_constants(load(path, verbose=False, allow_missing=allow_missing), path)
        buildings = None
    else:
        try:
            metrics = load(path, verbose=False, allow_missing=allow_missing)
        except FileNotFoundError as exc:  # a folder of something else: say what a report is made of
            raise FileNotFoundError(f"{exc}; {ALLOWED}") from None
        if (path / COLLECTED_FILE).exists():
            metrics = _add_constants(metrics, path / COLLECTED_FILE)
        single = (path / METRICS_FILE).exists()
        buildings = (
            load(path, "buildings", verbose=False) if single and (path / BUILDINGS_FILE).exists() else None
        )
    unit = next((c for c in ("point", "run") if c in metrics.columns and metrics[c].nunique() > 1), None)
    arms = next(
        (c for c in ("arm", "scenario.name") if c in metrics.columns and metrics[c].nunique() > 1), None
    )
    if unit is None and arms is None:
        kind = "run"
    elif arms is not None:
        kind = "scenarios"
    else:
        kind = "sweep"
    folder = path if path.is_dir() else path.parent
    design = _read_json(folder / DESIGN_FILE)
    return Source(
        path=path,
        kind=kind,
        metrics=metrics,
        buildings=buildings,
        varying=_varying(metrics),
        unit=unit,
        arms=arms,
        partial=metrics.attrs.get("partial"),
        design=design,
        analysis=_read_analysis(folder) if design is not None else {},
        provenance=_read_provenance(folder, design),
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_analysis(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables ``sim-analyse`` wrote into ``folder/analysis`` (those that exist)."""
    from sim.results import read_parquet

    out = {}
    for name in ANALYSIS_TABLES:
        table = folder / ANALYSIS_DIR / f"{name}.parquet"
        if table.is_file():
            out[name] = read_parquet(table)
    return out


def _run_dirs(folder: Path) -> list[Path]:
    """The runs a result is made of: the run itself, the points of a collection, or every run below."""
    if (folder / SUMMARY_FILE).is_file():
        return [folder]
    record = _read_json(folder / COLLECTION_RECORD)
    if record and isinstance(record.get("points"), dict):
        return [folder / p["run"] for p in record["points"].values() if isinstance(p, dict) and "run" in p]
    return list(find_runs(folder))


def _read_provenance(folder: Path, design: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The provenance blocks of the design (design.json) and of every run (summary.json)."""
    records = []
    if design is not None and isinstance(design.get("provenance"), dict):
        records.append({**design["provenance"], "origin": "design"})
    for run in _run_dirs(folder):
        summary = _read_json(run / SUMMARY_FILE)
        if summary is not None and isinstance(summary.get("provenance"), dict):
            records.append({**summary["provenance"], "origin": "run"})
    return records


# ------------------------------------------------------------------------------ content
def _facts(src: Source, lang: str) -> list[tuple[str, str]]:
    df = src.metrics
    facts = [
        (_t("source", lang), str(src.path)),
        (_t("kind", lang), _kind_text(src, lang)),
    ]
    if src.unit is not None:
        facts.append((_t("runs", lang), str(df[src.unit].nunique())))
    if "replicate" in df.columns:
        per_run = df.groupby(src.unit)["replicate"].nunique() if src.unit else df["replicate"].nunique()
        values = sorted(set(per_run.tolist())) if isinstance(per_run, pd.Series) else [per_run]
        facts.append((_t("replicates", lang), ", ".join(map(str, values))))
    if "step" in df.columns:
        facts.append((_t("weeks", lang), str(int(df["step"].max()))))

    def values_of(col: str) -> str:
        return ", ".join(map(str, pd.unique(df[col]))) if col in df.columns else "—"

    facts.append((_t("preset", lang), values_of("community.preset")))
    cols = ["community.n_compounds", "community.buildings_per_compound", "community.households_per_building"]
    if all(c in df.columns for c in cols):
        sizes = df[cols].drop_duplicates().prod(axis=1).astype(int)
        facts.append((_t("households", lang), "≈ " + ", ".join(map(str, sorted(set(sizes))))))
    facts.append((_t("seed", lang), values_of("seed")))
    if "scenario.name" in df.columns and not (src.arms == "arm" and df["scenario.name"].nunique() == 1):
        title = f"scenario.title_{lang}"
        desc = f"scenario.description_{lang}"
        cols = ["scenario.name"] + [c for c in (title, desc) if c in df.columns]
        rows = df[cols].drop_duplicates("scenario.name")
        items = []
        for _, row in rows.iterrows():
            name = str(row.get(title, row["scenario.name"]))
            detail = str(row.get(desc, ""))
            items.append(
                f"<b>{html.escape(name)}</b> ({html.escape(str(row['scenario.name']))})"
                + (f": {html.escape(detail)}" if detail else "")
            )
        facts.append((_t("scenarios", lang), "<br>".join(items)))
    if src.varying:
        shown = []
        for col in src.varying[:12]:
            vals = sorted(pd.unique(df[col]), key=str)
            text = ", ".join(_fmt(v) for v in vals[:8]) + (" …" if len(vals) > 8 else "")
            shown.append(
                f"{html.escape(plots.param_label(col, lang))} <code>{html.escape(col)}</code>: {text}"
            )
        facts.append((_t("varying", lang), "<br>".join(shown)))
    else:
        facts.append((_t("varying", lang), _t("none", lang)))
    return [(k, v if "<" in v else html.escape(v)) for k, v in facts]


def _kind_text(src: Source, lang: str) -> str:
    """The kind of result in words; arms of a design are counted, an ablation is named."""
    if src.kind == "scenarios" and src.arms == "arm":
        names = list(pd.unique(src.metrics["arm"]))
        key = "kind_ablation" if story.is_ablation(names) else "kind_arms"
        return _t(key, lang, n=len(names))
    return _t(f"kind_{src.kind}", lang)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _figures(src: Source, lang: str) -> list[tuple[str, go.Figure, str]]:
    """(name, figure, caption) of the key figures for this kind of result."""
    df = src.metrics
    out: list[tuple[str, go.Figure, str]] = []
    metrics = [m for m in KEY_METRICS if m in df.columns]
    if src.kind == "run":
        for m in metrics:
            out.append((f"time_{m}", plots.time_series(df, m, lang=lang), _t("cap_time", lang)))
        if src.buildings is not None and not src.buildings.empty:
            for m in ("satisfaction", "participation", "unmet_need"):
                out.append(
                    (f"map_{m}", plots.community_map(src.buildings, m, lang=lang), _t("cap_map", lang))
                )
        out.append(("sankey", plots.service_sankey(df, lang=lang), _t("cap_sankey", lang)))
    elif src.kind == "scenarios":
        arms = src.arms or "scenario.name"
        names = list(pd.unique(df[arms]))
        baseline = "baseline" if "baseline" in names else names[0]
        base_title = story.arm_title(baseline, lang, df, arms)
        # the arms' effects first, as dots sorted by effect; then the weeks, at most eight lines a chart
        for m in metrics:
            fig = story.effect_dots(df, arms, m, lang)
            out.append((f"effects_{m}", fig, _t("cap_compare", lang, baseline=base_title)))
        titled = df.assign(**{arms: df[arms].map(lambda a: story.arm_title(a, lang, df, arms))})
        groups = story.chunks(names, baseline)
        for m in metrics[:2]:
            for i, group in enumerate(groups):
                shown = [story.arm_title(a, lang, df, arms) for a in group]
                fig = plots.time_series(titled[titled[arms].isin(shown)], m, by=arms, lang=lang, band=True)
                suffix = f"_{i + 1}" if len(groups) > 1 else ""
                out.append((f"time_{m}{suffix}", fig, _t("cap_time", lang)))
    else:
        # lever intensities first: they are what a facilitator asks about
        varying = sorted((c for c in src.varying if c != "seed"), key=lambda c: not c.startswith("levers."))
        sensitivity = _sensitivity_figures(src, lang)
        if sensitivity is not None:
            out.extend(sensitivity)
            varying = []  # a sampled design has no grid to draw curves along
        if len(varying) == 2:
            x, y = varying
            for m in ("satisfaction", "participation"):
                fig = plots.lever_grid_heatmap(df, x, y, m, lang=lang)
                out.append((f"grid_{m}", fig, _t("cap_heatmap", lang)))
        for x in varying[:3]:
            for m in ("satisfaction", "participation"):
                fig = plots.tipping_curve(df, x, m, lang=lang)
                out.append((f"curve_{m}_{_slug(x)}", fig, _t("cap_tipping", lang)))
        if src.varying and "cost" in df.columns and df["cost"].nunique() > 1:
            # gains exist only when each point ran its paired baseline (baseline_comparison)
            has_gain = "satisfaction_gain" in df.columns and df["satisfaction_gain"].notna().any()
            gain = "satisfaction_gain" if has_gain else "satisfaction"
            keys = [c for c in src.varying if c != "seed"]
            fig = plots.budget_frontier(df, gain, by=keys, lang=lang)
            out.append(("frontier", fig, _t("cap_frontier", lang)))
        if not src.varying and sensitivity is None:
            for m in metrics:
                fig = plots.time_series(df, m, by=src.unit, lang=lang)
                out.append((f"time_{m}", fig, _t("cap_time", lang)))
    return out


def _sensitivity_figures(src: Source, lang: str) -> list[tuple[str, go.Figure, str]] | None:
    """Sobol or Morris bars when the sweep is a sampled design of the design sweeper, else None.

    The indices are sim-analyse's (SWEEP/analysis/<method>.parquet) when it has run, so that
    figures and takeaways show the same numbers; otherwise they are computed here."""
    design = src.design
    method = design.get("method") if design else None
    if method not in ("sobol", "morris"):
        return None
    from sim.analysis import sensitivity
    from sim.results import SUMMARY_TABLE_FILE

    folder = src.path if src.path.is_dir() else src.path.parent
    compute = sensitivity.sobol_indices if method == "sobol" else sensitivity.morris_indices
    outputs = [m for m in ("satisfaction", "participation", "trust") if m in src.metrics.columns]
    try:
        if method in src.analysis:
            table = src.analysis[method]
            outputs = [m for m in outputs if m in set(table["output"])]
        else:
            table = compute(design, pd.read_parquet(folder / SUMMARY_TABLE_FILE), outputs=outputs)
        indices = plots.tidy_indices(table)
    except (FileNotFoundError, KeyError, ValueError) as exc:  # e.g. points missing: show the rest
        print(f"sim-report: no {method} indices: {exc}", file=sys.stderr)
        return None
    if indices.empty or not outputs:
        return None
    group = indices["group"].iloc[0] if "group" in indices.columns else None
    caption = _t("cap_sobol" if method == "sobol" else "cap_morris", lang)
    return [
        (f"{method}_{m}", plots.sensitivity_bars(indices, output=m, lang=lang, group=group), caption)
        for m in outputs
    ]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def summary_table(src: Source, lang: str = "en") -> pd.DataFrame:
    """Final-week mean [95% interval] of the headline metrics for each arm of the result."""
    df = src.metrics
    metrics = [m for m in SUMMARY_METRICS if m in df.columns]
    if src.kind == "scenarios":
        keys = [src.arms or "scenario.name"]
    elif src.kind == "sweep":
        keys = [c for c in src.varying if c != "seed"] or ([src.unit] if src.unit else [])
    else:
        keys = []
    group_keys = keys + ([src.unit] if src.unit and src.unit not in keys else [])
    final = plots._final(df, group_keys or None)
    table = None
    for m in metrics:
        stats = plots.mean_interval(final.assign(_all=0), keys or ["_all"], m)
        col = stats[keys or ["_all"]].copy()
        col[plots.param_label(m, lang)] = [
            f"{r.mean:.3f} [{r.low:.3f}, {r.high:.3f}]" if pd.notna(r.mean) else "—"
            for r in stats.itertuples()
        ]
        table = col if table is None else table.merge(col, on=keys or ["_all"])
    assert table is not None
    if not keys:
        return table.drop(columns="_all")
    # a column with a value in at most half of the rows (a gain where the arms ran without a
    # baseline twin, known only for the baseline itself) says next to nothing: left out, and
    # named in table.attrs["omitted"] as (label, rows with a value, rows) for the note below it
    filled = {c: int((table[c] != "—").sum()) for c in table.columns if c not in keys}
    sparse = [c for c, k in filled.items() if 2 * k <= len(table)]
    table = table.drop(columns=sparse)
    omitted = [(c, filled[c], len(table)) for c in sparse]
    if keys == [src.arms] and src.arms in ("scenario.name", "arm"):
        table.insert(
            1, plots.text("scenario", lang), [story.arm_title(a, lang, df, src.arms) for a in table[src.arms]]
        )
    table = table.rename(columns={k: plots.param_label(k, lang) for k in keys})
    table.attrs["omitted"] = omitted
    return table


def _omitted_note(src: Source, omitted: list[tuple[str, int, int]], lang: str) -> str:
    """Which columns the summary table leaves out for lack of values, and why (empty if none)."""
    if not omitted:
        return ""
    gains = {plots.param_label(m, lang) for m in SUMMARY_METRICS if m.endswith("_gain")}
    cols = ", ".join(c for c, _, _ in omitted)
    k, n = max(f for _, f, _ in omitted), omitted[0][2]
    if src.arms and all(c in gains for c, _, _ in omitted):
        names = list(map(str, pd.unique(src.metrics[src.arms])))
        baseline = "baseline" if "baseline" in names else names[0]
        title = story.arm_title(baseline, lang, src.metrics, src.arms)
        return _t("omitted_gain", lang, cols=cols, k=k, n=n, baseline=title)
    return _t("omitted", lang, cols=cols, k=k, n=n)


_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", Arial,
  sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: .9rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } .facts th { width: 14rem; }
figure { margin: 1.5rem 0; } figcaption { color: #555; font-size: .9rem; }
footer { margin-top: 3rem; color: #777; font-size: .8rem; }
footer code { overflow-wrap: anywhere; }
"""


def _partial_banner(src: Source) -> str:
    """A warning on top of a report made from a partial collection (empty otherwise)."""
    if not src.partial:
        return ""
    style = "border:3px solid #d55e00;padding:0.6em;font-weight:bold"
    return f'<p class="partial" style="{style}">{html.escape(src.partial)}</p>\n'


def build_report(src: Source, lang: str = "en", figures: list | None = None) -> str:
    """The report as one HTML string (plotly.js inlined once; no external resources)."""
    check_lang(lang)
    figures = _figures(src, lang) if figures is None else figures
    name = src.path.name if src.path.name not in ("", ".") else str(src.path)
    title = _t("title", lang, name=name)
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td>{v}</td></tr>" for k, v in _facts(src, lang))
    table = summary_table(src, lang)
    try:
        points = story.takeaways(src, lang)
    except (KeyError, ValueError) as exc:  # a result too small to say anything about: say so
        points = [str(exc)]
    arms_block = ""
    if src.arms:
        arm_list = story.arm_table(src.metrics, src.arms, lang)
        arms_block = f"<h2>{_t('arms', lang)}</h2>" + arm_list.to_html(
            index=False, classes="arms", border=0, escape=True
        )
    note = _t("summary_note", lang)
    omitted = _omitted_note(src, table.attrs.get("omitted", []), lang)
    if len(table) > MAX_TABLE_ROWS:
        note += " " + _t("truncated", lang, n=MAX_TABLE_ROWS, total=len(table))
        table = table.head(MAX_TABLE_ROWS)
    body = f"""<h2>{_t("what", lang)}</h2>
<table class="facts">{facts}</table>
{arms_block}
<h2>{_t("figures", lang)}</h2>
{figure_blocks(figures)}
<h2>{_t("summary", lang)}</h2>
<p>{html.escape(note)}</p>
{table.to_html(index=False, classes="summary", border=0, escape=True)}
{f'<p class="omitted">{html.escape(omitted)}</p>' if omitted else ""}"""
    return page(
        title, lang, points, body, provenance_html(src.provenance, lang), str(src.path), _partial_banner(src)
    )


def figure_blocks(figures: list[tuple[str, go.Figure, str]]) -> str:
    """Each figure with its caption; plotly.js inlined once, in the first (never from a CDN: the
    file must work offline)."""
    blocks = []
    for i, (key, fig, caption) in enumerate(figures):
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=(i == 0),
            div_id=f"figure-{key}",
            config={"displaylogo": False, "responsive": True},
        )
        blocks.append(
            f'<figure id="fig-{html.escape(key)}">{div}'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    return "".join(blocks)


def page(
    title: str, lang: str, points: list[str], body: str, provenance: str, path: str, banner: str = ""
) -> str:
    """A report's page: the title, the takeaways first, ``body``, and the footer (when and from
    what it was made, and the provenance of the numbers)."""
    takeaways = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    made = _t("generated", lang, when=when, path=path, version=_version())
    return f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lang == "zh" else "en"}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
{banner}<h1>{html.escape(title)}</h1>
<h2>{_t("takeaways", lang)}</h2>
<ul class="takeaways">{takeaways}</ul>
{body}
<footer><p>{html.escape(made)}</p>
{provenance}</footer>
</body>
</html>
"""


def _few(values: list[str], lang: str, limit: int = 3, sep: str = ", ") -> str:
    """The first ``limit`` distinct values joined, and how many more there are."""
    values = list(dict.fromkeys(values))
    shown = sep.join(values[:limit])
    return shown + (" " + _t("prov_more", lang, n=len(values) - limit) if len(values) > limit else "")


def provenance_html(records: list[dict[str, Any]], lang: str = "en") -> str:
    """What made the results, for the footer: package version and git commit ("(modified tree)"
    when it had uncommitted changes), the command line, Python and platform, the seeds and the
    key dependencies' versions. Values that differ between runs are listed side by side."""
    if not records:
        return f'<p class="provenance">{html.escape(_t("prov_none", lang))}</p>'
    esc = html.escape
    runs = [r for r in records if r.get("origin") == "run"]
    design = next((r for r in records if r.get("origin") == "design"), None)

    def distinct(key: str, among: list[dict[str, Any]] = records) -> list[str]:
        return [str(r[key]) for r in among if r.get(key) is not None]

    commits = []
    for r in records:
        if r.get("commit"):
            dirty = ("" if lang == "zh" else " ") + _t("prov_dirty", lang) if r.get("dirty") else ""
            commits.append(f"{str(r['commit'])[:7]}{dirty}")
    commit = _t("prov_commit", lang, commits=_few(commits, lang)) if commits else _t("prov_no_commit", lang)
    package = next(iter(distinct("package")), "community-governance-sim")
    version = _few(distinct("version"), lang) or "?"
    made = (
        _t("prov_runs", lang, n=len(runs), package=package, version=version, commit=commit)
        if len(runs) > 1
        else _t("prov_made", lang, package=package, version=version, commit=commit)
    )
    # a design sweep's own command is the one to repeat; its workers may record another
    commands = [
        shlex.join(map(str, r["command_line"]))
        for r in ([design] if design and design.get("command_line") else records)
        if r.get("command_line")
    ]
    lines = [esc(made)]
    if commands:
        shown = list(dict.fromkeys(commands))
        code = "; ".join(f"<code>{esc(c)}</code>" for c in shown[:3])
        if len(shown) > 3:
            code += " " + esc(_t("prov_more", lang, n=len(shown) - 3))
        lines.append(_t("prov_command", lang, commands=code))  # the template is ours, code escaped
    seeds = []
    run_seeds = [
        str(r["seeds"]["seed"]) for r in runs if isinstance(r.get("seeds"), dict) and "seed" in r["seeds"]
    ]
    if run_seeds:
        seeds.append(_t("prov_seed", lang, seeds=_few(run_seeds, lang)))
    if design and isinstance(design.get("seeds"), dict) and design["seeds"].get("seed") is not None:
        seeds.append(_t("prov_design_seed", lang, seeds=design["seeds"]["seed"]))
    python = [
        f"{r['python']} ({r['implementation']})" if r.get("implementation") else str(r["python"])
        for r in records
        if r.get("python")
    ]
    lines.append(
        esc(
            _t(
                "prov_system",
                lang,
                python=_few(python, lang) or "?",
                platform=_few(distinct("platform"), lang) or "?",
                seeds=", ".join(seeds) or "—",
            )
        )
    )
    versions: dict[str, list[str]] = {}
    for r in records:
        for dist, v in (r.get("dependencies") or {}).items():
            if v is not None:
                versions.setdefault(str(dist), []).append(str(v))
    if versions:
        text = ", ".join(f"{d} {'/'.join(dict.fromkeys(v))}" for d, v in versions.items())
        lines.append(esc(_t("prov_versions", lang, versions=text)))
    return '<p class="provenance">' + "<br>\n".join(lines) + "</p>"


def _version() -> str:
    """The installed sim package's version (provenance of the numbers in the footer)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("community-governance-sim")
    except PackageNotFoundError:
        return "(not installed)"
