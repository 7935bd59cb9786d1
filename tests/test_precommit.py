"""The shipped .pre-commit-hooks.yaml, run by pre-commit itself in a temporary repository.

pre-commit would build a virtualenv and pip-install urlsweep for `language: python`, which
needs the network; the test keeps every field of each shipped hook but runs it as
`language: system` with the urlsweep installed here, so it is the real hook definition
(entry, arguments, file types, serial run) that pre-commit executes, offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "docs-repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "dev@example.invalid")
    git(repo, "config", "user.name", "Dev")
    git(repo, "config", "commit.gpgsign", "false")
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    local = []
    for hook in hooks:
        entry = hook["entry"].split()
        assert entry[0] == "urlsweep"
        local.append(
            {**hook, "language": "system", "entry": " ".join([str(BIN / "urlsweep"), *entry[1:]])}
        )
    config = {
        "repos": [{"repo": "local", "hooks": [h for h in local if h["id"] == "urlsweep-offline"]}]
    }
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    return repo


def test_hook_blocks_a_commit_with_a_broken_local_link(repo: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    (repo / "guide.md").write_text("# Guide\n")
    (repo / "README.md").write_text(
        "# Readme\n\n[guide](guide.md) [gone](gone.md)\n[web](https://example.invalid/x)\n"
    )
    (repo / "notes.txt").write_text("[ignored](nothing.md)\n")  # not Markdown: not checked
    git(repo, "add", ".")
    commit = subprocess.run(
        ["git", "commit", "-qm", "docs"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    out = commit.stdout + commit.stderr
    assert commit.returncode != 0, out
    assert "gone.md" in out and "README.md" in out and "nothing.md" not in out
    assert "example.invalid" not in out  # skipped offline, and -q hides skipped links
    (repo / "README.md").write_text(
        "# Readme\n\n[guide](guide.md)\n[web](https://example.invalid/x)\n"
    )
    git(repo, "add", ".")
    commit = subprocess.run(
        ["git", "commit", "-qm", "docs"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert git(repo, "log", "--oneline").stdout.count("\n") == 1
