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

_VERSION_FLAGS = (["--version"], ["-V"])


def main() -> None:
    if sys.argv[1:] in _VERSION_FLAGS:
        from urlsweep._version import __version__

        sys.stdout.write(f"urlsweep, version {__version__}\n")
        return
    from urlsweep.cli.interrupts import keep_until_exit
    from urlsweep.cli.main import main as cli_main

    keep_until_exit()  # this process ends with the command: Ctrl-C means 130 to the end
    try:
        cli_main()
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


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
