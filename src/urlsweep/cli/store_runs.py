"""What a stored check says about its run besides results: why --resume could not resume,
the default retention applied after it, and the store's size in words.

Kept apart from store_cmds.py (the options and commands) so each stays small.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from urlsweep.reports.visible import shown

if TYPE_CHECKING:
    from urlsweep.options import Options
    from urlsweep.store.db import Store


def say(message: str, *, quiet: bool) -> None:
    if not quiet:
        click.echo(f"urlsweep: {shown(message)}", err=True)


def auto_prune(store: Store, *, quiet: bool) -> None:
    """The documented default retention, applied after every stored check."""
    from urlsweep.store.prune import DEFAULT_KEEP_RUNS, DEFAULT_OLDER_THAN
    from urlsweep.watch.state import prune_rows

    try:
        done = store.prune(
            DEFAULT_KEEP_RUNS,
            DEFAULT_OLDER_THAN,
            also=lambda db: prune_rows(db, DEFAULT_OLDER_THAN),
        )
    except Exception as exc:  # sqlite3.Error, OSError: the run itself is stored; go on
        say(f"warning: old runs not pruned: {exc}", quiet=quiet)
        return
    if done.runs:
        say(
            f"pruned {done.runs} old runs (store {megabytes(done.size_before)}"
            f" -> {megabytes(done.size_after)})",
            quiet=quiet,
        )


def why_not_resumed(store: Store, inputs: Sequence[str], options: Options) -> str:
    """What differs from the interrupted run that --resume did not continue."""
    from urlsweep.store.keys import Identity, input_names, profile_dict

    other = store.unfinished()
    if other is None:
        return " (no interrupted run in the store)"
    if Identity.of(inputs, options).fingerprint == other.fingerprint:
        return ""  # a later run over the same inputs completed
    differs = []
    names = input_names(inputs)
    if names != other.inputs:
        differs.append(f"inputs {_listed(other.inputs)} (now {_listed(names)})")
    now = profile_dict(options)
    for key, value in now.items():
        then = other.options.get(key)
        if key != "secrets" and then != value:
            differs.append(f"{key} {_shown(then)} (now {_shown(value)})")
    if not differs:
        differs.append("other secret header values or passwords")
    return f" (interrupted run {other.id} differs: " + "; ".join(differs) + ")"


def _listed(inputs: Sequence[str]) -> str:
    return " ".join(os.path.relpath(i) if os.path.isabs(i) else i for i in inputs) or "none"


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- commands ------------------------------------------------------------------------------


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"
