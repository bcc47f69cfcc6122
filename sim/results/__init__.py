"""Results on disk: written atomically, checked, loaded and collected.

- :mod:`sim.results.layout` — the file names a writer and a reader agree on (a run, a
  collection, a design sweep);
- :mod:`sim.results.files` — atomic writing, and the temporary files killed writers left;
- :mod:`sim.results.runs` — a run's files with their completion marker; :func:`load` reads
  any result;
- :mod:`sim.results.collect` — a sweep's runs into one table (``sim-collect``);
- :mod:`sim.results.integrity` — whether a collected table still matches what it was made
  from; :mod:`sim.results.lock` — one writer per folder; :mod:`sim.results.failure` — one line
  and an exit code per kind of failure; :mod:`sim.results.provenance` — what made a result.

The names below are the package's public surface, so ``from sim.results import load`` works.
"""

from sim.results.collect import (
    ALWAYS_KEPT,
    ID_COLUMNS,
    CollectReport,
    collect,
    collected_constants,
    discover,
    run_folders,
)
from sim.results.files import (
    UNOWNED_TEMPORARY_AGE,
    WriteError,
    _host_tag,
    atomic_write,
    describe_os_error,
    orphaned,
    remove_orphan_temporaries,
    sha256,
    temporary_beside,
    write_json,
    write_parquet,
    write_text,
)
from sim.results.layout import (
    BUILDINGS_FILE,
    COLLECTED_FILE,
    COLLECTION_RECORD,
    CONFIG_FILE,
    HYDRA_RECORD,
    INCOMPLETE,
    MARKER,
    METRICS_FILE,
    SUMMARY_FILE,
    SUMMARY_TABLE_FILE,
)
from sim.results.runs import (
    COMPLETE,
    CorruptResultError,
    RunStatus,
    check_run,
    describe_incomplete,
    find_runs,
    incomplete_info,
    load,
    load_summary,
    read_parquet,
    write_incomplete,
    write_run,
)

__all__ = [
    "ALWAYS_KEPT",
    "BUILDINGS_FILE",
    "COLLECTED_FILE",
    "COLLECTION_RECORD",
    "COMPLETE",
    "CONFIG_FILE",
    "HYDRA_RECORD",
    "ID_COLUMNS",
    "INCOMPLETE",
    "MARKER",
    "METRICS_FILE",
    "SUMMARY_FILE",
    "SUMMARY_TABLE_FILE",
    "UNOWNED_TEMPORARY_AGE",
    "CollectReport",
    "CorruptResultError",
    "RunStatus",
    "WriteError",
    "_host_tag",
    "atomic_write",
    "check_run",
    "collect",
    "collected_constants",
    "describe_incomplete",
    "describe_os_error",
    "discover",
    "find_runs",
    "incomplete_info",
    "load",
    "load_summary",
    "orphaned",
    "read_parquet",
    "remove_orphan_temporaries",
    "run_folders",
    "sha256",
    "temporary_beside",
    "write_incomplete",
    "write_json",
    "write_parquet",
    "write_run",
    "write_text",
]
