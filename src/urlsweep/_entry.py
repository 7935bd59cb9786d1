"""The `urlsweep` command's entry point: `--version` is answered before click is imported.

Importing the CLI (click, option tables, logging) costs most of the start-up time; a version
query needs none of it. The answer is click's own format, so both paths print the same.
"""

from __future__ import annotations

import sys

_VERSION_FLAGS = (["--version"], ["-V"])


def main() -> None:
    if sys.argv[1:] in _VERSION_FLAGS:
        from ._version import __version__

        sys.stdout.write(f"urlsweep, version {__version__}\n")
        return
    from .cli import main as cli_main
    from .interrupts import keep_until_exit

    keep_until_exit()  # this process ends with the command: Ctrl-C means 130 to the end
    cli_main()
