"""Outputs never destroy inputs: -o naming an input or the store is refused before anything
is written; the output is opened only once every check passed; a full disk is one line and
exit 2 (the results stay in the store); a closed pipe ends the run quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.http import TestHTTPServer

CMD = [sys.executable, "-m", "urlsweep"]


def run(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CMD, *map(str, args)],
        input=None if stdin is None else stdin.decode("latin-1"),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line_error(p: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 and exactly one line on stderr: the error (and where results were kept)."""
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("urlsweep: error: "), p.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in p.stderr


def test_an_output_that_is_an_input_is_refused_and_nothing_is_written(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    text = f"{http_server.base_url}/ok\n"
    urls.write_text(text)
    p = run("check", urls, "-o", urls)
    one_line_error(p, "is also an input")
    assert urls.read_text() == text
    assert http_server.requests == []  # refused before any request
    # The same file by another name.
    os.symlink(urls, tmp_path / "alias.txt")
    one_line_error(run("check", tmp_path / "alias.txt", "-o", urls), "is also an input")
    assert urls.read_text() == text


def test_an_output_that_is_the_store_is_refused(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    store = tmp_path / "s.db"
    url = f"{http_server.base_url}/ok"
    assert run("check", url, "--store", store).returncode == 0
    before = store.read_bytes()
    one_line_error(run("check", url, "--store", store, "-o", store), "results store")
    one_line_error(run("report", "--store", store, "-o", store), "results store")
    assert store.read_bytes() == before
    assert run("report", "--store", store, "-f", "jsonl").stdout.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        ("--no-store", "--resume"),  # refused by the store options
        ("--type", "urls", "BINARY"),  # a binary input list
    ],
)
def test_usage_errors_leave_an_existing_output_as_it_was(
    http_server: TestHTTPServer, tmp_path: Path, args: tuple[str, ...]
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{http_server.base_url}/ok\n")
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4)
    out = tmp_path / "out.json"
    out.write_text("precious\n")
    argv = [binary if a == "BINARY" else a for a in args]
    p = run("check", urls, *argv, "-o", out, "-f", "json", "--store", tmp_path / "s.db")
    one_line_error(p)
    assert out.read_text() == "precious\n"
    assert http_server.requests == []


def test_a_binary_input_list_is_one_clear_error(tmp_path: Path) -> None:
    binary = tmp_path / "photo.jpg.txt"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(4096))
    one_line_error(run("check", binary, "--no-store"), "binary file")
    # From stdin too: no giant invalid_url record, an error naming the input.
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n")
    p = run("check", "-", "--no-store", "-f", "jsonl", "-o", out, stdin=binary.read_bytes())
    assert p.returncode == 2 and "binary data" in p.stderr and "Traceback" not in p.stderr
    assert out.read_text() == "kept\n"  # nothing to write: never opened


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("fmt", ["text", "jsonl", "html"])
def test_a_full_disk_is_one_line_and_exit_2_and_the_store_keeps_the_results(
    http_server: TestHTTPServer, tmp_path: Path, fmt: str
) -> None:
    store = tmp_path / "s.db"
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{http_server.base_url}/ok?n={i}\n" for i in range(20)))
    p = run("check", urls, "--store", store, "-f", fmt, "-o", "/dev/full", "--no-progress")
    one_line_error(p, "cannot write /dev/full", "No space left on device")
    # The run stopped at the first failed write; what was received before is in the store,
    # and the one line says how to write it again.
    assert f"stored as run 1 (urlsweep report --store {store} 1)" in p.stderr
    kept = run("report", "--store", store, "-f", "jsonl", "1")
    assert kept.returncode == 0, kept.stderr
    assert 1 <= len(kept.stdout.splitlines()) <= 20
    one_line_error(run("report", "--store", store, "-o", "/dev/full"), "cannot write /dev/full")


def test_a_closed_pipe_ends_quietly(http_server: TestHTTPServer, tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{http_server.base_url}/ok?n={i}\n" for i in range(400)))
    for argv in (
        ["check", urls, "--store", store, "-w", "8"],
        ["check", urls, "--no-store", "-f", "jsonl"],
        ["report", "--store", store, "-f", "csv"],
    ):
        # Like `urlsweep ... | head -1`: the reader takes one line and goes.
        proc = subprocess.Popen(
            [*CMD, *map(str, argv)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(60) in (0, 1), err
        assert first
        assert "Traceback" not in err and "Exception ignored" not in err, err
        assert "Broken pipe" not in err and "error" not in err, err
    rows = run("report", "--store", store, "-f", "jsonl").stdout.splitlines()
    assert rows and all(json.loads(r)["outcome"] == "ok" for r in rows)


def test_a_utf16_list_with_its_bom_is_read_as_text(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    # Windows PowerShell 5 writes `Get-Content a.txt > urls.txt` as UTF-16 LE with a BOM.
    text = f"# mine\r\n{http_server.base_url}/ok?é\r\n{http_server.base_url}/status/404\r\n"
    for encoding in ("utf-16", "utf-16-be"):
        f = tmp_path / f"{encoding}.txt"
        data = text.encode(encoding)
        f.write_bytes(data if encoding == "utf-16" else b"\xfe\xff" + data)
        p = run("check", f, "--no-store", "-f", "jsonl")
        assert p.returncode == 1, p.stderr
        records = [json.loads(line) for line in p.stdout.splitlines()]
        by_source = {r["sources"][0]: r["outcome"] for r in records}
        assert by_source == {f"{f}:2": "ok", f"{f}:3": "broken"}
    bare = tmp_path / "bare.txt"  # no BOM: the byte order is a guess, so it is refused
    bare.write_bytes(text.encode("utf-16-le"))
    one_line_error(run("check", bare, "--no-store"), "UTF-16 needs its byte-order mark")
