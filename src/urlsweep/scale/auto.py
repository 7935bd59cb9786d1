"""How many worker processes a run gets (`--processes auto`), decided without importing
the process machinery (parallel.py): a run that stays in one process never pays for it."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Final

from urlsweep.inputs import count_lines

# Below this, a second process costs more than it saves (docs/performance.md). On Linux the
# command line forks its workers (scale/local.py): 5,000 URLs take 0.41-0.47 s in two and
# 0.47-0.49 s in one, 2,000 the same in both. Elsewhere each worker is a new interpreter
# (~0.1 s of start-up): 10,000 URLs took as long in one process as in two.
AUTO_MIN_URLS: Final = 5_000 if sys.platform == "linux" else 10_000


def auto_processes(inputs: Sequence[str]) -> int:
    """`--processes auto`: one per core for a big URL list, else 1 (see docs/performance.md).

    Stdin counts as small: it cannot be measured without reading it, and may be interactive.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not cores or cores < 2:
        return 1
    lines = count_lines(inputs, limit=AUTO_MIN_URLS)
    return cores if lines is not None and lines >= AUTO_MIN_URLS else 1
