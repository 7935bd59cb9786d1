"""Click options built from the option declarations (urlsweep.options), so that a flag, its
config-file key, its environment variable and its library keyword cannot drift apart.

HTTPie's cli/definition.py is the model: the commands list no options of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from urlsweep.errors import OptionError
from urlsweep.options import Decl, declared, for_command

F = TypeVar("F", bound=Callable[..., Any])


def _click_type(decl: Decl) -> Any:
    kind = decl.kind
    if kind == "int":
        return click.IntRange(
            None if decl.lo is None else int(decl.lo), None if decl.hi is None else int(decl.hi)
        )
    if kind == "float":
        return click.FloatRange(decl.lo, decl.hi)
    if kind == "choice":
        return click.Choice(decl.choices)
    if kind == "path" and decl.exists:
        return click.Path(exists=True, dir_okay=False)
    if kind == "dir" and decl.exists:
        return click.Path(exists=True, file_okay=False)
    if kind in ("path", "dir"):
        return click.Path()  # opened later, with its own one-line error
    return str


def _parser(decl: Decl) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback turning the text given into the declared value."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        try:
            if decl.multiple:
                return tuple(decl.from_text(v) if isinstance(v, str) else v for v in value)
            return decl.from_text(value) if isinstance(value, str) else value
        except OptionError as exc:
            message = str(exc).removeprefix(f"{decl.name}: ")
            raise click.BadParameter(message, ctx=ctx, param=param) from None

    return callback


def click_option(decl: Decl, command: str) -> click.Option:
    names = [n for n in (decl.short, decl.long) if n is not None]
    kwargs: dict[str, Any] = {
        "help": decl.help_in(command),
        "metavar": decl.metavar,
    }
    if decl.env is not None:
        kwargs.update(envvar=decl.env, show_envvar=True)
    if decl.kind == "bool":
        kwargs.update(is_flag=True, default=False)
    elif decl.kind == "count":
        kwargs.update(count=True, default=0)
    else:
        default = decl.default if decl.default_text is None else decl.default_text
        kwargs.update(
            type=_click_type(decl),
            default=default,
            multiple=decl.multiple,
            show_default=decl.show_default and default not in (None, ()),
        )
        if decl.kind == "custom":
            kwargs["callback"] = _parser(decl)
    return click.Option([*names, decl.name], **kwargs)


def command_params(command: str) -> list[click.Parameter]:
    """Every declared option of `command`, in declaration order."""
    return [click_option(d, command) for d in for_command(command) if d.cli]


def options(command: str, *names: str) -> Callable[[F], F]:
    """A decorator adding the declared options `names` to a click command function."""

    def decorate(f: F) -> F:
        for name in reversed(names):
            option = click_option(declared(name), command)
            f.__click_params__ = [*getattr(f, "__click_params__", []), option]  # type: ignore[attr-defined]
        return f

    return decorate
