"""`--include-kind` / `--exclude-kind`: which links to check, by the element and attribute
they were found in (`Link.via`, e.g. "a[href]", "img[srcset]", "meta[og:image]").

A pattern is an element ("img": any of its attributes), `element[attribute]`, or `[attribute]`
(that attribute on any element); `*` and `?` are wildcards ("meta[og:*]"). Kinds are cheap to
test: the answer for each distinct `via` is computed once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from urlsweep.links.extract.model import Link


def _matches(pattern: str, element: str, attr: str) -> bool:
    pattern = pattern.strip().lower()
    if "[" not in pattern:
        return fnmatchcase(element, pattern)
    p_el, _, p_attr = pattern.partition("[")
    p_attr = p_attr.removesuffix("]")
    return (not p_el or fnmatchcase(element, p_el)) and fnmatchcase(attr, p_attr)


def check_pattern(pattern: str) -> str | None:
    """Why `pattern` is not a kind pattern, or None when it is."""
    p = pattern.strip()
    if not p:
        return "an empty kind pattern"
    if ("[" in p and not p.endswith("]")) or p.count("[") > 1 or p.count("]") > 1:
        return f"kind {pattern!r} is not ELEMENT, ELEMENT[ATTRIBUTE] or [ATTRIBUTE]"
    if p.startswith("[") and p == "[]":
        return f"kind {pattern!r} names no attribute"
    return None


@dataclass(slots=True)
class KindFilter:
    include: tuple[str, ...] = ()  # empty: every kind
    exclude: tuple[str, ...] = ()
    _seen: dict[tuple[str, str], bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def of(cls, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> KindFilter | None:
        """A filter, or None when nothing is filtered (the common case costs nothing)."""
        if not include and not exclude:
            return None
        return cls(tuple(include), tuple(exclude))

    def wants(self, link: Link) -> bool:
        key = (link.element, link.attr)
        known = self._seen.get(key)
        if known is None:
            element, attr = key[0].lower(), key[1].lower()
            known = (
                not self.include or any(_matches(p, element, attr) for p in self.include)
            ) and not any(_matches(p, element, attr) for p in self.exclude)
            with self._lock:
                self._seen[key] = known
        return known
