"""The `urlsweep` command's entry point: `--version` is answered before click is imported,
and the process leaves without the interpreter's teardown once the command is done.

Importing the CLI (click, option tables, logging) costs most of the start-up time; a version
query needs none of it. The answer is click's own format, so both paths print the same.
Tearing the interpreter down (freeing every module, rich's and libcurl's included) costs
~20 ms after the work is over; every file, the store and any worker process are closed by
then, so the command flushes its standard streams and exits at once.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

_VERSION_FLAGS = (["--version"], ["-V"])


def main() -> None:
    if sys.argv[1:] in _VERSION_FLAGS:
        from urlsweep._version import __version__

        sys.stdout.write(f"urlsweep, version {__version__}\n")
        return
    from urlsweep.cli.interrupts import keep_until_exit
    from urlsweep.cli.main import main as cli_main

    keep_until_exit()  # this process ends with the command: Ctrl-C means 130 to the end
    import click

    no_args = _no_args_error()
    try:
        code = cli_main(standalone_mode=False)
    except SystemExit as exc:
        _leave(exc.code)
    except no_args as exc:  # plain `urlsweep`: the help, as click 8.1 showed it (exit 0)
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.write(exc.format_message() + "\n")
        _leave(0)
    except click.ClickException as exc:  # a bad flag: one line naming it, as for any value
        _usage_error(exc)
    except click.exceptions.Abort:
        _leave(130)
    except Exception as exc:  # the one boundary: a bug is one line and exit 3, not a traceback
        _internal_error(exc)
    _leave(code if isinstance(code, int) else 0)


def _no_args_error() -> type[click.ClickException] | tuple[()]:
    """click >= 8.2 raises this for a group called with nothing; 8.1 printed the help itself."""
    import click

    return getattr(click.exceptions, "NoArgsIsHelpError", ())


def _usage_error(exc: click.ClickException) -> None:
    import click

    from urlsweep.reports.visible import shown

    message = shown(exc.format_message()).replace("\n", " ").rstrip(".")
    ctx = getattr(exc, "ctx", None)
    where = f"; see {ctx.command_path} -h" if isinstance(exc, click.UsageError) and ctx else ""
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"urlsweep: error: {message}{where}\n")
    _leave(exc.exit_code)


EXIT_INTERNAL = 3  # documented in README.md "Exit status"


def _internal_error(exc: Exception) -> None:
    verbose = any(
        a == "--verbose" or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in sys.argv
    )
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    hint = "" if verbose else "; run with -v for the traceback"
    from urlsweep.reports.visible import shown

    message = shown(f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"urlsweep: internal error: {message}{hint}\n")
    _leave(EXIT_INTERNAL)


def _leave(code: object) -> None:
    """`sys.exit(code)` without the teardown (what SystemExit would do, then os._exit)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        sys.stderr.write(f"{code}\n")
        status = 1
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`| head`) or stream: nothing more can be said there anyway.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
