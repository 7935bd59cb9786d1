"""`urlsweep --version` is answered without importing the CLI, and says what click would."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_fast_answer_matches_the_cli(flag: str) -> None:
    fast = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from urlsweep._entry import main; main(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich')))",
            flag,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    full = subprocess.run(
        [sys.executable, "-c", "from urlsweep.cli.main import main; main()", flag],
        capture_output=True,
        text=True,
        check=True,
    )
    version_line, imported = fast.stdout.splitlines()
    assert version_line == full.stdout.strip()
    assert version_line.startswith("urlsweep, version ")
    assert imported == "[]"


def test_other_arguments_reach_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "urlsweep", "--help"], capture_output=True, text=True, check=True
    )
    assert "check" in out.stdout
