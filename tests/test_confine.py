"""docs/security.md, what local-document checks may read: the root folder, nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import urlsweep

# If a file outside the root were read, this link (and its anchor) would show in the output.
SECRET = '# Secret\n\n[leak](http://leak.invalid/)\n\n<a id="there"></a>\n'


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/outside/secret.md, and tmp/root/docs/ linking out of tmp/root in every way."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(SECRET)
    root = tmp_path / "root"
    docs = root / "docs"
    docs.mkdir(parents=True)
    (docs / "ok.md").write_text("# Ok\n")
    (docs / "index.md").write_text(
        "\n\n".join(
            [
                "[up](../../outside/secret.md#there)",
                "[rooted](/../outside/secret.md)",
                "[file](page.html)",
                "[via-link](link.md#there)",
                "[via-dir](linkdir/secret.md)",
                "[fine](ok.md)",
                "[rooted-fine](/docs/ok.md)",
            ]
        )
        + "\n"
    )
    # Markdown renderers drop file: links; HTML keeps them.
    (docs / "page.html").write_text(f'<a href="{(outside / "secret.md").as_uri()}#there">f</a>')
    os.symlink(outside / "secret.md", docs / "link.md")  # found by the directory walk too
    os.symlink(outside, docs / "linkdir", target_is_directory=True)
    return root


FLAGS = ("--check-fragments", "-f", "jsonl")


def run(root: Path, *extra: str) -> list[dict[str, Any]]:
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "urlsweep",
            "check",
            "docs",
            "--root-dir",
            ".",
            "--offline",
            *FLAGS,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
    )
    assert p.returncode in (0, 1) and "Traceback" not in p.stderr, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def test_local_links_leading_out_of_the_root_are_outside_root_and_never_read(
    tree: Path,
) -> None:
    records = run(tree)
    text = json.dumps(records)
    assert "leak.invalid" not in text, "a file outside the root was read"
    outside = {r["url"]: r for r in records if r["error"] == "outside_root"}
    by_source = {s.rsplit(":", 1)[1] for r in outside.values() for s in r["sources"]}
    assert by_source == {"1", "3", "7", "9"}  # up, rooted, via-link, via-dir
    assert any(r["sources"] == ["docs/page.html:1"] for r in outside.values())  # file://
    assert all(
        r["outcome"] == "broken" and "--allow-outside-root" in r["detail"] for r in outside.values()
    )
    assert not any(r["error"] == "missing_fragment" for r in records)  # #there never looked up
    # The symlinked document found by walking docs/ is not read either: one record for it.
    assert [r["url"] for r in records].count(os.path.join("docs", "link.md")) == 1
    ok = {r["url"] for r in records if r["ok"]}
    assert os.path.join("docs", "ok.md") in ok


def test_allow_outside_root_lets_them_be_read(tree: Path) -> None:
    records = run(tree, "--allow-outside-root")
    assert not any(r["error"] == "outside_root" for r in records)
    assert any(r["url"] == "http://leak.invalid/" for r in records)


def test_without_root_dir_the_root_is_the_current_directory(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree)
    got = list(urlsweep.check_documents("docs/index.md", offline=True))
    errors = {r.error for r in got if r.sources and r.sources[0].endswith((":1", ":7"))}
    assert errors == {"outside_root"}
