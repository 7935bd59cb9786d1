"""Text from outside (URLs, reason phrases, titles, error texts, file names) made inert.

A link in a crawled page can hold ESC sequences that clear a screen, set a window title or
write the clipboard (OSC 52) once printed. Every human-readable output shows such characters
as escapes instead (`\\x1b`, `\\u202e`): C0 and C1 controls, DEL, the bidirectional
overrides and isolates (which reorder what a reader sees) and the line separators. The JSON
formats keep the exact string (JSON escapes it anyway).
"""

from __future__ import annotations

import re
from typing import Final

from urlsweep.result import mask_userinfo

_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(s: str) -> str:
    """`s` with every control character written out as an escape; `s` itself when clean."""
    if _CONTROL.search(s) is None:
        return s
    return _CONTROL.sub(_escape, s)


def shown(s: str) -> str:
    """A message for the terminal: inert (`visible`), and no password of a URL in it (an
    error naming an input repeats what the user typed, `user:pass@` included)."""
    return visible(mask_userinfo(s))


# One mark per outcome, wherever a line for a person shows one (listing, tables, watch).
MARKS: Final = {"ok": "✓", "broken": "✗", "unverifiable": "?", "skipped": "-", "tolerated": "~"}


def is_terminal(stream: object) -> bool:
    """Whether `stream` is a terminal; a closed or odd stream is not."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def has_control(s: str) -> bool:
    return _CONTROL.search(s) is not None
