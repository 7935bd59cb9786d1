"""When to try a URL again, and how long to wait first.

Only answers that say "not now" are retried: connection failures, timeouts and the statuses
servers use for overload. Anything else (404, DNS failure, TLS) would answer the same again.
"""

from __future__ import annotations

import random
import time
from typing import Final

from urlsweep import result as R
from urlsweep.options import Options
from urlsweep.result import Result

RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
RETRY_ERRORS: Final = frozenset({R.CONNECT, R.TIMEOUT})
# Statuses that speak for the whole host: while it asks us to wait, its other URLs wait too.
PAUSE_STATUSES: Final = frozenset({429, 503})
_RNG: Final = random.Random()


def retryable(result: Result) -> bool:
    if result.error is not None:
        return result.error in RETRY_ERRORS
    return result.status in RETRY_STATUSES


def rate_limited(result: Result) -> bool:
    """Still refused for speed after every retry: a candidate for the deferred pass."""
    return result.error is None and result.status == 429


def pauses_host(result: Result) -> bool:
    return result.error is None and result.status in PAUSE_STATUSES


def retry_after(result: Result, header: str | None) -> float | None:
    """The wait the server asked for (its Retry-After `header`), if `result` is one of the
    statuses where that means something."""
    return parse_retry_after(header) if pauses_host(result) else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # rarely needed: 3 ms of start-up saved

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive one means the server omitted it
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, so retries spread out.

    `attempt` is the number of attempts made so far (1 after the first).
    """
    full = min(cap, base * 2.0 ** max(0, attempt - 1))
    return full / 2 + (rng or _RNG).uniform(0, full / 2)


def wait_before_retry(attempt: int, told: float | None, base: float, cap: float) -> float:
    """Seconds to wait: what Retry-After said (`told`) wins, all capped by `cap`."""
    if told is not None:
        return min(told, cap)
    return backoff_delay(attempt, base, cap)


def deferred_interval(told: float | None, options: Options) -> float:
    """Spacing of the slow final pass on a host: slower than the last retry, or as asked."""
    slowest = options.backoff * 2.0**options.retries
    return min(options.max_retry_wait, max(told or 0.0, slowest))
