"""Every option of urlsweep, declared once: the `Options` fields (requests.py) and what the
commands take besides (commands.py, watching.py). See declare.py for what a declaration says.

A new option is one declaration, plus its field in `Options` (or the crawl's, documents' or
store's options) and, for a library option, its keyword in each function that takes it:
tests/test_declarations.py names what is missing.
"""

from __future__ import annotations

from typing import Final

from urlsweep.options.commands import COMMAND, FORMAT_NAMES
from urlsweep.options.declare import Decl
from urlsweep.options.linking import LINKING
from urlsweep.options.requests import REQUEST
from urlsweep.options.watching import WATCHING

__all__ = ["BY_KEY", "BY_NAME", "DECLARATIONS", "FORMAT_NAMES"]

DECLARATIONS: Final[tuple[Decl, ...]] = REQUEST + COMMAND + LINKING + WATCHING
BY_NAME: Final = {d.name: d for d in DECLARATIONS}
# Config-file keys (the long flag's name, `_` for `-`) -> declaration.
BY_KEY: Final = {d.key.replace("-", "_"): d for d in DECLARATIONS if d.config}


def declared(name: str) -> Decl:
    return BY_NAME[name]


def for_command(command: str) -> tuple[Decl, ...]:
    return tuple(d for d in DECLARATIONS if command in d.commands)


def for_library(function: str) -> tuple[Decl, ...]:
    return tuple(d for d in DECLARATIONS if function in d.library)


def profile_names() -> tuple[str, ...]:
    """The `Options` fields that change what a result says (the result profile)."""
    return tuple(d.name for d in DECLARATIONS if d.profile and d.target == "options")
