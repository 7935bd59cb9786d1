"""A listing on a terminal, batch by batch: lines that fit go out as their own segments
(the same bytes rich's own printing gives), the width is asked once a batch, and wide
characters are counted by the cells they take."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.text import Text

from urlsweep.reports.text import TextSink, result_line
from urlsweep.result import Result


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LINES", "24")
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)


def _results() -> list[Result]:
    out = []
    for i in range(30):
        ok = i % 3 != 0
        out.append(
            Result(
                url=f"http://127.0.0.1:8080/p?i={i}",
                status=200 if ok else 404,
                ok=ok,
                outcome="ok" if ok else "broken",
                method="HEAD",
                elapsed_ms=2.0,
            )
        )
    return out


def test_lines_that_fit_are_the_bytes_rich_prints() -> None:
    stream = Tty()
    sink = TextSink(stream)
    results = _results()
    for r in results:
        sink.write(r)
    sink.flush()
    reference = Tty()
    console = Console(file=reference, highlight=False, soft_wrap=False)
    console.print(Text("\n").join([result_line(r) for r in results]), soft_wrap=True)
    assert "\x1b[" in stream.getvalue()  # styled: the comparison covers the colours
    assert stream.getvalue() == reference.getvalue()


def test_a_new_width_is_taken_at_the_next_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    stream = Tty()
    sink = TextSink(stream)
    long = Result(url="http://127.0.0.1:8080/" + "x" * 30, status=200, ok=True, outcome="ok")
    assert 60 < len(result_line(long).plain) < 100
    sink.write(long)
    sink.flush()
    wide = stream.getvalue()
    assert max(len(line) for line in Text.from_ansi(wide).plain.splitlines()) <= 60
    sink.console.width = 100  # the terminal was made wider
    sink.write(long)
    sink.flush()
    last = Text.from_ansi(stream.getvalue()[len(wide) :]).plain.splitlines()
    assert len(last) == 1 and len(last[0]) > 60  # one line now, not wrapped at 60


def test_wide_characters_count_by_their_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    stream = Tty()
    sink = TextSink(stream)
    # 15 CJK characters: 15 characters but 30 cells, so the line wraps at 80 columns.
    path = "\u6f22" * 15
    r = Result(url=f"http://127.0.0.1:8080/{path}", status=200, ok=True, outcome="ok")
    line = result_line(r)
    assert len(line.plain) <= 80 < line.cell_len
    sink.write(r)
    assert sink._lines == 2
    ascii_only = Result(url="http://127.0.0.1:8080/a", status=200, ok=True, outcome="ok")
    sink.write(ascii_only)
    assert sink._lines == 3


def _appended(result: Result) -> Text:
    """The line built part by part, as rich's own `append` builds it."""
    from urlsweep.reports.text import _STYLE, STATUS_WIDTH, describe, status_text
    from urlsweep.reports.visible import MARKS, visible

    style = _STYLE.get(result.outcome, "")
    line = Text()
    mark = MARKS.get(result.outcome, " ")
    line.append(f"{mark} {visible(status_text(result)):<{STATUS_WIDTH}} ", style=style)
    line.append(f"{result.method or '-':<4} {result.elapsed_ms:>7.0f} ms  ")
    line.append(visible(result.url))
    note = describe(result)
    if note:
        line.append("  " + visible(note), style="dim" if result.ok else style)
    return line


def test_a_line_is_the_text_its_parts_make() -> None:
    from urlsweep.result import Hop

    cases = [
        *_results()[:3],
        Result(
            url="http://h.invalid/a",
            final_url="http://h.invalid/b",
            status=200,
            ok=True,
            outcome="ok",
            redirects=(Hop("http://h.invalid/a", 301),),
        ),
        Result(url="http://h.invalid/\x1b[31mred", error="timeout", detail="took \x07 too long"),
        Result(url="http://h.invalid/t", status=503, outcome="tolerated", attempts=3),
        Result(url="mailto:x@h.invalid", outcome="skipped", detail="not checked"),
        Result(url="http://h.invalid/u", status=429, outcome="unverifiable", detail="HTTP 429"),
    ]
    for r in cases:
        line = result_line(r)
        assert line == _appended(r), r
        assert line.spans == _appended(r).spans
