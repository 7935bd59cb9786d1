"""The declarations of what a command takes besides how URLs are checked and links read:
where results go, the store, what is shown, the stored runs and the config file itself.
"""

from __future__ import annotations

from typing import Final

from urlsweep.errors import OptionError
from urlsweep.options.declare import (
    CHECK,
    CHECKING,
    CRAWL,
    HISTORY,
    PRUNE,
    REPORT,
    RUNS,
    WATCH,
    Decl,
)
from urlsweep.store.cachepolicy import ResultFilter, parse_duration

# The names of `reports.FORMATS`, kept here so `--help` needs no report module.
FORMAT_NAMES: Final = ("text", "json", "jsonl", "csv", "sarif", "junit", "markdown", "html")
FAIL_ON_CHOICES: Final = ("unverifiable", "skipped")
DEFAULT_EXCLUDE: Final = "429,5xx,errors"
_S: Final = CHECKING | {REPORT, HISTORY, RUNS, PRUNE}
_ONCE: Final = frozenset({CHECK, CRAWL})  # a run that ends (not `watch`)
_KEEPERS: Final = _ONCE | {REPORT}
_DOCUMENTS: Final = frozenset({CHECK, WATCH})  # commands that read local documents


def _processes(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 256:
        raise OptionError(f"{text!r} is not 'auto' or a number from 1 to 256")
    return n


COMMAND: Final[tuple[Decl, ...]] = (
    Decl(
        "processes",
        "custom",
        None,
        "Worker processes sharing the --workers, each checking its share of the hosts. "
        "auto: one per CPU core for URL lists of 5,000+ URLs in files (10,000+ off Linux), else 1.",
        commands=frozenset({CHECK}),
        target="run",
        short="-P",
        parse=_processes,
        pytype=int,
        default_text="auto",
        metavar="N|auto",
        example="1",
    ),
    Decl(
        "fmt",
        "choice",
        "text",
        "Output format.",
        commands=_KEEPERS,
        target="run",
        short="-f",
        flag="--format",
        choices=FORMAT_NAMES,
        example="jsonl",
    ),
    Decl(
        "output",
        "path",
        None,
        "Write results to FILE instead of stdout.",
        commands=_KEEPERS,
        target="run",
        short="-o",
        metavar="FILE",
        help_for=((REPORT, "Write the report to FILE instead of stdout."),),
        example="out.txt",
    ),
    Decl(
        "store",
        "path",
        None,
        "Results store (SQLite) [default: .urlsweep/results.db].",
        commands=_S,
        target="store",
        env="URLSWEEP_STORE",
        metavar="PATH",
        example="results.db",
    ),
    Decl(
        "no_store",
        "bool",
        False,
        "Keep no results.",
        target="store",
        env="URLSWEEP_NO_STORE",
    ),
    Decl(
        "resume",
        "bool",
        False,
        "Continue the latest unfinished run with the same inputs and options: finished "
        "URLs are not checked again; the output covers the whole run.",
        target="store",
        commands=_ONCE,
    ),
    Decl(
        "cache_max_age",
        "custom",
        None,
        "Reuse a stored result younger than AGE (e.g. 30m, 12h, 1d) from any run instead "
        "of checking again.",
        target="store",
        parse=parse_duration,
        pytype=float,
        metavar="AGE",
        example="12h",
        commands=_ONCE,
    ),
    Decl(
        "cache_exclude_status",
        "custom",
        ResultFilter.parse(DEFAULT_EXCLUDE),
        "Results never reused: statuses (404), ranges (500-599), classes (5xx), error "
        "names (timeout), 'errors' for all, 'none'.",
        target="store",
        parse=ResultFilter.parse,
        pytype=ResultFilter,
        default_text=DEFAULT_EXCLUDE,
        metavar="LIST",
        example="404",
        commands=_ONCE,
    ),
    Decl(
        "fail_after",
        "int",
        1,
        "Flag a URL only when it also failed in the N-1 runs before; until then it is "
        "'tolerated' (does not fail the exit status).",
        target="store",
        lo=1,
        hi=1000,
        metavar="N",
        example="3",
    ),
    Decl(
        "dask",
        "str",
        None,
        "Run the checks on a Dask cluster: its scheduler (tcp://host:8786), or local[:N] "
        "for N worker processes here. Needs urlsweep[dask]; see docs/dask.md.",
        commands=_DOCUMENTS,
        target="run",
        metavar="ADDRESS",
        example="local:2",
        help_for=(
            (
                WATCH,
                "Run each round's checks on a Dask cluster (see docs/dask.md); the schedule "
                "and the server stay here.",
            ),
        ),
    ),
    Decl(
        "partition_size",
        "int",
        500,
        "With --dask: URLs per host in one task (a task takes several hosts).",
        commands=_DOCUMENTS,
        target="run",
        lo=1,
        hi=1_000_000,
        library=frozenset({"dask.check"}),
        example="50",
        help_for=((WATCH, "With --dask: URLs per task."),),
    ),
    Decl(
        "no_progress", "bool", False, "Never show the progress bar.", commands=_ONCE, target="run"
    ),
    Decl(
        "verbose",
        "count",
        0,
        "Log each check with its thread name (-vv: every request; -vvv: libcurl's account too).",
        target="run",
        short="-v",
        lo=0,
        example="2",
    ),
    Decl(
        "quiet",
        "bool",
        False,
        "No progress or summary; text output lists only URLs that are not ok.",
        commands=_KEEPERS | {WATCH},
        target="run",
        short="-q",
        help_for=((REPORT, "Text: list only URLs not ok or changed."),),
    ),
    Decl(
        "fail_on",
        "choice",
        (),
        "Also exit 1 when a URL has this outcome (repeatable; broken always fails).",
        target="run",
        choices=FAIL_ON_CHOICES,
        multiple=True,
        example="unverifiable",
        commands=_ONCE,
    ),
    Decl(
        "markdown_limit",
        "int",
        65_536,
        "Markdown: stay under this many characters (GitHub's comment limit), broken results "
        "first, then 'N more results'; 0 lifts the limit.",
        commands=_KEEPERS,
        target="run",
        lo=0,
        metavar="CHARS",
        example="2000",
    ),
    Decl(
        "keep_runs",
        "int",
        None,
        "Keep the newest N runs, drop older ones.",
        commands=frozenset({PRUNE, WATCH}),
        target="watch",
        help_for=(
            (
                WATCH,
                "Keep the newest N rounds in the store, pruned as the watch goes (every round"
                " is a run; default: 200, and 90 days, as check applies after it).",
            ),
        ),
        lo=0,
        metavar="N",
        example="10",
    ),
    Decl(
        "older_than",
        "custom",
        None,
        "Drop runs last active more than AGE ago (e.g. 30d, 12w).",
        commands=frozenset({PRUNE, WATCH}),
        target="watch",
        help_for=(
            (
                WATCH,
                "Drop rounds older than AGE from the store as the watch goes (e.g. 7d); given"
                " with or without --keep-runs, the two replace the default retention.",
            ),
        ),
        parse=parse_duration,
        pytype=float,
        metavar="AGE",
        example="30d",
    ),
    Decl(
        "compare_id",
        "int",
        None,
        "Mark changes against this run [default: the previous run over the same inputs].",
        commands=frozenset({REPORT}),
        target="run",
        flag="--compare",
        lo=1,
        metavar="RUN",
        config=False,
        example="1",
    ),
    Decl(
        "limit",
        "int",
        20,
        "Show at most this many, newest first.",
        commands=frozenset({HISTORY, RUNS}),
        target="run",
        short="-n",
        lo=1,
        hi=100_000,
        help_for=(
            (HISTORY, "Show at most this many results, newest first."),
            (RUNS, "Show at most this many runs, newest first."),
        ),
        example="5",
    ),
    Decl(
        "config",
        "path",
        None,
        "Settings file (default: ./urlsweep.toml, else [tool.urlsweep] in pyproject.toml).",
        commands=_S,
        target="cli",
        exists=True,
        config=False,
        example="ci.toml",
    ),
    Decl(
        "no_config",
        "bool",
        False,
        "Ignore urlsweep.toml and [tool.urlsweep] in pyproject.toml.",
        commands=_S,
        target="cli",
        config=False,
    ),
    Decl(
        "trust_config",
        "bool",
        False,
        "Take insecure, proxy, ca-cert and secret headers from a config file found in the "
        "current directory too (see docs/security.md).",
        commands=_S,
        target="cli",
        config=False,
    ),
)
