"""The default interactive mode, in a real pseudo-terminal at 80 columns: results above a
live progress bar, columns that do not run into each other, long URLs wrapped, the broken
results repeated after a long listing, nothing from outside printed raw."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from support.http import TestHTTPServer
from support.term import Pty

CMD = [sys.executable, "-m", "urlsweep"]
BAR = "━"  # rich's bar; a result line never holds it


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "URLSWEEP_STORE": str(tmp_path / "store.db")}


def _urls(tmp_path: Path, server: TestHTTPServer, n: int) -> Path:
    lines = []
    for i in range(n):
        path = f"/status/404?n={i}" if i % 4 == 0 else f"/delay/0.02?n={i}"
        lines.append(server.base_url + path)
    f = tmp_path / "urls.txt"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_results_are_printed_above_the_bar_never_on_its_line(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = _urls(tmp_path, http_server, 60)
    term = Pty(80, 24)
    code = term.run([*CMD, "check", str(urls), "-w", "4"], _env(tmp_path))
    assert code == 1  # some are 404
    raw = term.output()
    assert BAR in raw  # the bar was shown (and so could have collided)
    assert " left" in raw  # the total is known: time left is shown
    lines = term.screen().text()
    total = next(i for i, line in enumerate(lines) if line.startswith("total"))
    results = [line for line in lines[:total] if line.startswith(("✓", "✗"))]
    assert len(results) == 60
    for line in lines:
        if line.startswith(("✓", "✗")):
            assert BAR not in line and "/60" not in line, line
    # The bar is gone at the end (transient), and nothing of it is left on a line.
    assert not any(BAR in line for line in lines), [line for line in lines if BAR in line]
    shown = sorted(int(line.rpartition("?n=")[2]) for line in results)
    assert shown == list(range(60))


def test_results_piped_to_the_same_screen_get_no_bar(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = _urls(tmp_path, http_server, 60)
    term = Pty(80, 24)  # stderr on the terminal, stdout through `cat` to the same terminal
    argv = " ".join([*CMD, "check", str(urls), "-w", "4"])
    assert term.run(["sh", "-c", f"{argv} | cat"], _env(tmp_path)) == 0  # cat's status
    assert BAR not in term.output()
    lines = term.screen().text()
    results = [line for line in lines if line.startswith(("✓", "✗"))]
    assert len(results) == 60 and all("?n=" in line and "/60" not in line for line in results)
    # With -o the results do not go to the screen: the bar is back.
    term = Pty(80, 24)
    out = tmp_path / "out.txt"
    argv = " ".join([*CMD, "check", str(urls), "-w", "4", "-o", str(out)])
    assert term.run(["sh", "-c", f"{argv} | cat"], _env(tmp_path)) == 0
    assert BAR in term.output() and len(out.read_text().splitlines()) == 60


def test_a_stream_has_a_bar_without_time_left(http_server: TestHTTPServer, tmp_path: Path) -> None:
    urls = _urls(tmp_path, http_server, 60)
    term = Pty(80, 24)
    argv = " ".join([*CMD, "check", "-", "-w", "4", "-o", str(tmp_path / "out.txt")])
    assert term.run(["sh", "-c", f"cat {urls} | {argv}"], _env(tmp_path)) == 1
    raw = term.output()
    assert BAR in raw and "/?" in raw and " left" not in raw


def test_columns_fit_their_longest_value_and_long_urls_wrap(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    long_url = http_server.base_url + "/ok?" + "q" * 150
    urls = tmp_path / "urls.txt"
    urls.write_text(f"ftp://example.invalid/file\n{long_url}\n")
    term = Pty(80, 24)
    code = term.run([*CMD, "check", str(urls), "--no-progress"], _env(tmp_path))
    assert code == 0
    lines = term.screen().text()
    skipped = next(line for line in lines if "unsupported_scheme" in line)
    assert "unsupported_scheme -" in skipped  # a space before the method column
    assert "unsupported_schemeHEAD" not in "".join(lines)
    # The long URL wraps at 80 columns and is all there, not cut.
    assert all(len(line) <= 80 for line in lines)
    start = next(i for i, line in enumerate(lines) if http_server.base_url + "/ok?" in line)
    assert len(lines[start]) > 60
    joined = "".join(lines[start : start + 4])
    assert long_url in joined
    # In a file the same listing keeps one line per URL, never cut nor wrapped.
    out = tmp_path / "out.txt"
    subprocess.run(
        [*CMD, "check", str(urls), "-o", str(out)], env=_env(tmp_path), check=True, timeout=60
    )
    text = out.read_text().splitlines()
    assert len(text) == 2
    assert text[1].endswith(long_url) and "…" not in out.read_text()
    assert "unsupported_scheme -" in text[0]


def test_a_long_listing_ends_with_the_broken_ones_again(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = _urls(tmp_path, http_server, 40)  # 10 broken, more than a screenful in all
    term = Pty(80, 40)  # room for the summary and all 10 again (two lines each)
    assert term.run([*CMD, "check", str(urls), "--no-progress"], _env(tmp_path)) == 1
    lines = term.screen().text()
    total = next(i for i, line in enumerate(lines) if line.startswith("total"))
    recap = next(i for i, line in enumerate(lines) if line.startswith("not ok (10)"))
    assert recap > total
    again = [line for line in lines[recap + 1 :] if line.startswith("✗")]
    assert len(again) == 10 and all("/status/404" in line for line in again)
    # In arrival order above the summary: every URL once.
    listed = [line for line in lines[:total] if line.startswith(("✓", "✗"))]
    assert len(listed) == 40

    short = _urls(tmp_path, http_server, 8)  # fits the screen: nothing repeated
    term = Pty(80, 24)
    assert term.run([*CMD, "check", str(short), "--no-progress"], _env(tmp_path)) == 1
    assert not any(line.startswith("not ok (") for line in term.screen().text())


def test_a_recap_longer_than_the_screen_keeps_the_summary_in_view(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{http_server.base_url}/status/404?n={i}\n" for i in range(60)))
    term = Pty(80, 24)
    assert term.run([*CMD, "check", str(urls), "--no-progress"], _env(tmp_path)) == 1
    lines = term.screen().text()  # the scrollback too
    while lines and not lines[-1].strip():
        lines.pop()
    screen = lines[-23:]  # what the last 24-row screen shows above the prompt
    shown = [line for line in screen if line.strip()]
    # The whole summary and the recap's end are on the last screen.
    assert any(line.startswith("broken") for line in screen)  # the summary's first row
    assert any(line.startswith("total") and line.rstrip().endswith("60") for line in screen)
    assert any(line.startswith("not ok (60)") for line in screen)
    again = [line for line in screen if line.startswith("✗")]
    more = next(line for line in shown if line.startswith("... and "))
    left = int(more.split()[2])
    assert 3 <= len(again) < 24 and len(again) + left == 60
    # It says where the rest are, and that command lists them.
    assert "urlsweep report -q" in more
    p = subprocess.run(
        [*CMD, "report", "-q"], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 1 and p.stdout.count("/status/404") == 60


def test_escape_sequences_from_a_page_never_reach_the_terminal_raw(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    hostile = "http://127.0.0.1:1/\x1b]0;owned\x07\x1b]52;c;ZWNobyBoaQ==\x07\x1b[2J"
    page.write_text(
        f'<a href="{hostile}">x</a><a href="{http_server.base_url}/ok">ok</a>', encoding="utf-8"
    )
    term = Pty(80, 24)
    term.run([*CMD, "check", str(page), "--no-progress"], _env(tmp_path))
    raw = term.output()
    assert "\x1b]" not in raw and "\x1b[2J" not in raw and "\x07" not in raw
    screen = term.screen()
    assert not screen.unknown
    assert "\\x1b]0;owned\\x07" in "".join(screen.text())


def test_a_long_listing_redraws_the_bar_per_batch_not_per_line(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    """Each print under the live bar redraws it: lines are printed together, so a 20,000-URL
    listing on a terminal takes seconds, not a minute (bench/RESULTS.md, terminal)."""
    n = 3000
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{http_server.base_url}/ok?n={i}\n" for i in range(n)))
    term = Pty(80, 24)
    code = term.run([*CMD, "check", str(urls), "-w", "16"], _env(tmp_path), timeout=120)
    assert code == 0
    raw = term.output()
    draws = raw.count(f"/{n}")  # every drawing of the bar shows "done/3000"
    assert 0 < draws < n / 4, draws  # one per result would be 3,000 or more
    lines = term.screen().text()
    assert sum(line.startswith("✓ 200") for line in lines) == n  # none lost in a batch
    assert next(line for line in lines if line.startswith("total")).split() == ["total", str(n)]


def test_the_last_lines_of_a_burst_show_while_the_next_check_waits(
    http_server: TestHTTPServer, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    fast = [f"{http_server.base_url}/ok?n={i}" for i in range(3)]
    urls.write_text("\n".join([*fast, f"{http_server.base_url}/delay/4"]) + "\n")
    term = Pty(80, 24)
    done: list[int] = []
    runner = threading.Thread(
        target=lambda: done.append(term.run([*CMD, "check", str(urls), "-w", "4"], _env(tmp_path)))
    )
    runner.start()
    deadline = time.monotonic() + 3  # the slow check answers after 4 s
    shown: list[str] = []
    while time.monotonic() < deadline and len(shown) < 3:
        time.sleep(0.1)
        shown = [line for line in term.screen().text() if line.startswith("✓ 200")]
    assert not done, "the slow check ended too soon to tell"
    assert len(shown) == 3, term.output()[-800:]  # not held back until the next result
    runner.join(30)
    assert done == [0]
