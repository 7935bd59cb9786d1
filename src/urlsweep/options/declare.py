"""What one option declaration says, and how any value of it is checked.

A `Decl` is the single description of an option: the command line builds its flag from it
(cli/flags.py), a config file's key is converted by it, the library's keyword and `Options`
are validated by it. Values arrive in three shapes, one method each: text (a flag or an
environment variable: `from_text`), a TOML value (`from_config`, strict: `"yes"` is not a
bool, `1.7` is not a whole number) and a Python value (`check`, for the library).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from urlsweep.errors import OptionError

Kind = Literal["int", "float", "bool", "count", "str", "choice", "path", "dir", "custom"]
# Where a value goes: an `Options` field, the crawl's or local documents' options, the
# store's, how the command runs and prints, `urlsweep watch`'s own, or the command line
# itself (which config file).
Target = Literal["options", "crawl", "links", "store", "run", "watch", "cli"]

CHECK: Final = "check"
CRAWL: Final = "crawl"
REPORT: Final = "report"
HISTORY: Final = "history"
RUNS: Final = "runs"
PRUNE: Final = "prune"
WATCH: Final = "watch"
COMMANDS: Final = (CHECK, CRAWL, WATCH, REPORT, HISTORY, RUNS, PRUNE)
# The commands that check URLs: what an option applies to unless it says otherwise.
CHECKING: Final = frozenset({CHECK, CRAWL, WATCH})
# The library functions that take keywords (urlsweep.check, ...), as their public names.
LIBRARY: Final = ("check", "check_documents", "crawl_site", "dask.check")
ALL_LIBRARY: Final = frozenset(LIBRARY)

_WANT: Final = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "count": "a whole number",
    "str": "a string",
    "choice": "a string",
    "path": "a path (a string)",
    "dir": "a directory path (a string)",
    "custom": "a string",
}


@dataclass(frozen=True, slots=True)
class Decl:
    """One option, declared once. `name` is its keyword and Python name everywhere."""

    name: str
    kind: Kind
    default: Any
    help: str
    commands: frozenset[str] = CHECKING
    target: Target = "options"
    short: str | None = None
    flag: str | None = None  # the long flag, when it is not --name-with-dashes
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    multiple: bool = False
    profile: bool = False  # changes what a result says: part of the result profile
    env: str | None = None
    metavar: str | None = None
    parse: Callable[[str], Any] | None = None  # text -> value, for kind "custom"
    pytype: type | tuple[type, ...] | None = None  # a custom value's Python type
    default_text: str | None = None  # a custom default as the flag would spell it
    exists: bool = False  # a path that must exist
    trust: bool = False  # ignored from a discovered config unless it is trusted
    config: bool = True  # settable from a config file
    cli: bool = True  # has a flag
    library: frozenset[str] = frozenset()  # the library functions that take it
    example: str | None = None  # a value a person might give (docs and tests)
    show_default: bool = True
    help_for: tuple[tuple[str, str], ...] = ()  # (command, help) where it reads otherwise

    @property
    def long(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def key(self) -> str:
        """The config-file key: the long flag's name (`-` or `_` both accepted)."""
        return self.long[2:]

    def help_in(self, command: str) -> str:
        return dict(self.help_for).get(command, self.help)

    def optional(self) -> bool:
        return self.default is None

    # -- values ---------------------------------------------------------------------------
    def from_text(self, text: str) -> Any:
        """One value as typed on the command line or in an environment variable."""
        if self.kind == "custom" and self.parse is not None:
            return self._named(self.parse, text)
        if self.kind in ("int", "count"):
            try:
                value: Any = int(text)
            except ValueError:
                raise self.error(f"{text!r} is not {_WANT['int']}") from None
        elif self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise self.error(f"{text!r} is not {_WANT['float']}") from None
        elif self.kind == "bool":
            low = text.strip().lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off", ""):
                raise self.error(f"{text!r} is not {_WANT['bool']}")
            value = low in ("1", "true", "yes", "on")
        else:
            value = text
        return self._item(value)

    def from_config(self, raw: Any, base: str | None = None) -> Any:
        """A TOML value, strictly typed; relative paths are taken from `base` (the file's
        directory). Returns the value as the flag would have produced it."""
        if isinstance(raw, dict):
            raise self.error("want a value, not a table")
        if self.multiple:
            items = raw if isinstance(raw, list) else [raw]
            return tuple(self._config_item(v, base) for v in items)
        if isinstance(raw, list):
            if self.kind == "custom" and all(isinstance(v, str | int) for v in raw):
                raw = ",".join(str(v) for v in raw)  # accept = [200, 403]
            else:
                raise self.error("want one value, not a list")
        return self._config_item(raw, base)

    def _config_item(self, raw: Any, base: str | None) -> Any:
        kind = self.kind
        if kind == "bool":
            if not isinstance(raw, bool):
                raise self.error(f"want true or false, not {_shown(raw)}")
            return raw
        if kind in ("int", "count"):
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise self.error(f"want a whole number, not {_shown(raw)}")
            return self._item(raw)
        if kind == "float":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                raise self.error(f"want a number, not {_shown(raw)}")
            return self._item(float(raw))
        if kind == "custom" and isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            raise self.error(f"want {_WANT[kind]}, not {_shown(raw)}")
        if kind in ("path", "dir") and base is not None and raw != "-" and raw:
            raw = os.path.join(base, os.path.expanduser(raw))
        return self.from_text(raw)

    def check(self, value: Any) -> Any:
        """A Python value (a library keyword, or what a flag produced): its type and range.

        Returns it in canonical form (tuples for lists, float for whole-number floats)."""
        if value is None and self.optional():
            return None
        if self.multiple:
            if isinstance(value, str | bytes) or not _iterable(value):
                raise self.error(f"want a list of values, not {_shown(value)}")
            return tuple(self._typed(v) for v in value)
        return self._typed(value)

    def _typed(self, value: Any) -> Any:
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.error(f"want True or False, not {_shown(value)}")
            return value
        if kind in ("int", "count"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.error(f"want a whole number, not {_shown(value)}")
            return self._item(value)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.error(f"want a number, not {_shown(value)}")
            return self._item(float(value))
        if kind == "custom":
            if self.pytype is not None and isinstance(value, self.pytype):
                return value
            if isinstance(value, str) and self.parse is not None:
                return self.from_text(value)
            raise self.error(f"want {self._custom_want()}, not {_shown(value)}")
        if not isinstance(value, str):
            raise self.error(f"want {_WANT[kind]}, not {_shown(value)}")
        return self._item(value)

    def _item(self, value: Any) -> Any:
        """Bounds and choices of one (already typed) value."""
        if self.kind in ("int", "float", "count"):
            lo, hi = self.lo, self.hi
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise self.error(f"{value} is not in {self.bounds()}")
        if self.kind == "choice" and value not in self.choices:
            raise self.error(f"{value!r} is not one of {', '.join(self.choices)}")
        return value

    def bounds(self) -> str:
        def num(x: float) -> str:
            return str(int(x)) if self.kind != "float" and x == int(x) else f"{x:g}"

        if self.lo is not None and self.hi is not None:
            return f"the range {num(self.lo)} to {num(self.hi)}"
        if self.lo is not None:
            return f"the range {num(self.lo)} or more"
        return f"the range up to {num(self.hi or 0)}"

    def _custom_want(self) -> str:
        types = self.pytype if isinstance(self.pytype, tuple) else (self.pytype,)
        names = [t.__name__ for t in types if t is not None]
        return " or ".join(["a string", *names]) if self.parse else " or ".join(names)

    def _named(self, parse: Callable[[str], Any], text: str) -> Any:
        try:
            return parse(text)
        except OptionError as exc:
            message = str(exc)
            if message.startswith(f"{self.name}:") or self.long in message:
                raise
            raise self.error(message) from None

    def error(self, message: str) -> OptionError:
        return OptionError(f"{self.name}: {message}")


def _iterable(value: object) -> bool:
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
