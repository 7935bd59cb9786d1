"""How many worker processes a run gets (`--processes auto`), decided without importing
the process machinery (parallel.py): a run that stays in one process never pays for it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final

from urlsweep.inputs import count_lines

# Below this, starting a second interpreter costs more than it saves: measured with the
# multi-handle engine (docs/performance.md), 10,000 URLs take as long in one process as in
# two, 20,000 take 12 % less in two.
AUTO_MIN_URLS: Final = 10_000


def auto_processes(inputs: Sequence[str]) -> int:
    """`--processes auto`: one per core for a big URL list, else 1 (see docs/performance.md).

    Stdin counts as small: it cannot be measured without reading it, and may be interactive.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2:
        return 1
    lines = count_lines(inputs, limit=AUTO_MIN_URLS)
    return cores if lines is not None and lines >= AUTO_MIN_URLS else 1
