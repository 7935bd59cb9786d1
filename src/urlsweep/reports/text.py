"""Human-readable output: one line per URL as it completes, tables for summaries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Span, Text

from urlsweep.reports.base import Sink
from urlsweep.reports.sarif import split_source
from urlsweep.reports.visible import MARKS, is_terminal, visible
from urlsweep.result import BROKEN, ERRORS, OUTCOMES, SKIPPED, UNVERIFIABLE, Result
from urlsweep.summary import Summary

_STYLE = {
    "ok": "green",
    "broken": "red",
    "unverifiable": "yellow",
    "skipped": "dim",
    "tolerated": "yellow",
}
CHANGE_LABELS = {"newly_broken": "newly broken", "newly_fixed": "newly fixed"}
_CHANGE_STYLE = {"newly_broken": "bold red", "newly_fixed": "bold green"}
# On a terminal, lines are printed together at most this often: each print under the live
# progress bar redraws the bar (~2 ms), which made a 20,000-URL listing take 49 s instead of
# 3 s; one print of the lines of 50 ms costs one redraw (measured in tmux, 100x30).
TERMINAL_BATCH_SECONDS = 0.05
_NEWLINE = Segment.line()
_NARROW_MARKS = frozenset(m for m in (*MARKS.values(), " ") if cell_len(m) == 1)
# The status column holds an HTTP status, an error name or an outcome: as wide as the longest.
STATUS_WIDTH = max(len(name) for name in (*ERRORS, *OUTCOMES, "000"))


def status_text(result: Result) -> str:
    if result.error is not None:
        return result.error
    if result.status is None:
        return result.outcome  # a local file, or a link not checked
    return str(result.status)


def attempts_note(result: Result) -> str:
    """Each attempt's time, when there was more than one (elapsed_ms is the whole check)."""
    if len(result.attempt_ms) < 2:
        return ""
    times = " + ".join(f"{ms:.0f}" for ms in result.attempt_ms)
    return f"{len(result.attempt_ms)} attempts: {times} ms"


def describe(result: Result) -> str:
    """The note after the URL: where it went, why it is not ok, its attempts. Raw text: each
    format makes it inert its own way (`visible`, Markdown or XML escaping)."""
    notes = []
    if result.redirects:
        n = len(result.redirects)
        notes.append(f"→ {result.final_url} ({n} redirect{'s' if n > 1 else ''})")
    if result.detail and not result.ok:
        notes.append(result.detail)
    if result.via and not result.ok:
        notes.append("in " + " ".join(result.via))
    if attempts := attempts_note(result):
        notes.append(attempts)
    return "  ".join(notes)


def needs_attention(result: Result) -> bool:
    return result.outcome in (BROKEN, UNVERIFIABLE)


def result_line(result: Result) -> Text:
    """One result on one line (the terminal may wrap it); nothing from outside is raw."""
    style = _STYLE.get(result.outcome, "")
    mark = MARKS.get(result.outcome, " ")
    head = f"{mark} {visible(status_text(result)):<{STATUS_WIDTH}} "
    text = f"{head}{result.method or '-':<4} {result.elapsed_ms:>7.0f} ms  {visible(result.url)}"
    spans = [Span(0, len(head), style)] if style else []
    note = describe(result)
    if note:
        start = len(text)
        text += "  " + visible(note)
        if note_style := "dim" if result.ok else style:
            spans.append(Span(start, len(text), note_style))
    # One Text made whole, not appended to part by part: rich strips control codes from
    # each part it is given (10 % of a terminal listing's main thread, py-spy), and every
    # part is `visible` already.
    return Text(text, spans=spans)


class TextSink(Sink):
    """One line per record as it completes.

    With `group`, records that need attention and say where they were found are held and
    printed at the end under each source file or page, as people fix them file by file.
    On a terminal long lines wrap at its width (never in a file or a pipe), and a listing
    that ran past a screenful repeats the broken results after the summary (`recap`).
    """

    def __init__(
        self,
        stream: TextIO,
        only_failures: bool = False,
        group: bool = False,
        changes: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(stream, changes)
        self.only_failures = only_failures
        self.group = group
        self._by_source: dict[str, list[tuple[int, Result]]] = {}
        terminal = is_terminal(stream)
        self.console = Console(file=stream, highlight=False, soft_wrap=not terminal)
        self._terminal = terminal
        # A file or a pipe without colours (rich's own choice: FORCE_COLOR may want them)
        # takes the line's text as it is: rich's rendering was 2/3 of writing a listing.
        self._plain = not terminal and self.console.color_system is None
        self._lines = 0  # terminal lines listed so far (terminal only)
        self.lines_written = 0  # records listed
        self._attention: list[Result] = []  # for the recap
        self._attention_total = 0
        # Terminal lines not printed yet (with their width in cells, measured once), printed
        # by the next result or by `_flusher`.
        self._held: list[tuple[Text, int]] = []
        # The terminal's width, asked once a batch: rich asks the terminal each time (an
        # isatty and a size query), which was 28 % of a terminal listing's main thread
        # (py-spy, 20,000 URLs in tmux).
        self._width = self.console.width if terminal else 80
        self._live: Console | None = None
        self._printed_at = 0.0
        self._held_lock = threading.Lock()
        self._closed = threading.Event()
        self._flusher: threading.Thread | None = None

    def write(self, result: Result) -> None:
        change = self.change(result)
        if self.only_failures and (result.ok or result.outcome == SKIPPED) and change is None:
            return
        if self.group and result.sources and not result.ok and result.outcome != SKIPPED:
            for source in result.sources:
                where, line = split_source(source)
                self._by_source.setdefault(where, []).append((line or 0, result))
            return
        shown = result_line(result)
        if change is not None:
            shown.append(f"  [{CHANGE_LABELS[change]}]", style=_CHANGE_STYLE[change])
        if self._terminal:
            plain = shown.plain
            # A mark and ASCII (nearly every line) is a cell a character; rich measures each
            # character of any line that is not all ASCII (16 % of a terminal listing).
            narrow = plain[:1] in _NARROW_MARKS and plain[1:].isascii()
            cells = len(plain) if narrow else shown.cell_len
            self._lines += 1 + max(0, cells - 1) // max(1, self._width)
            if needs_attention(result) and not self.only_failures:
                self._attention_total += 1
                if len(self._attention) < self.console.height:  # a screenful at most
                    self._attention.append(result)
            self.lines_written += 1
            self._hold(shown, cells)
            return
        if self._plain:
            self.stream.write(shown.plain + "\n")
        else:
            self.console.print(shown)
        self.lines_written += 1
        self.maybe_flush()

    def _hold(self, line: Text, cells: int) -> None:
        """A terminal line: printed now if nothing was for a while, else with the next batch."""
        with self._held_lock:
            self._held.append((line, cells))
            if time.monotonic() - self._printed_at >= TERMINAL_BATCH_SECONDS:
                self._print_held()
        if self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_held, name="text", daemon=True)
            self._flusher.start()

    def _print_held(self) -> None:
        held, self._held = self._held, []
        console = self._live or self.console
        width = self._width = console.width
        start = 0
        # Runs of lines that fit the width go out as their segments, a line each: a line
        # that fits has nothing to wrap, and rich's wrapping (joining the lines, then
        # splitting them again) was half of a terminal listing's cost (17.9 against 8.6 µs
        # a line, the same bytes out). Lines that do not fit are wrapped by rich.
        while start < len(held):
            fits = held[start][1] <= width
            end = start + 1
            while end < len(held) and (held[end][1] <= width) == fits:
                end += 1
            if fits:
                segments: list[Segment] = []
                for line, _ in held[start:end]:
                    segments.extend(line.render(console))
                    segments.append(_NEWLINE)
                console.print(Segments(segments), soft_wrap=True, end="")
            else:
                console.print(Text("\n").join([line for line, _ in held[start:end]]))
            start = end
        self._printed_at = time.monotonic()

    def print_above(self, console: Console | None) -> None:
        """Print terminal lines on `console`, a live progress bar's (None: on our stream):
        written through the bar's redirected stdout, each line was parsed back from its
        escape codes and drawn again (a fifth of a listing's cost)."""
        with self._held_lock:
            if self._held:
                self._print_held()
            self._live = console

    def _flush_held(self) -> None:
        """The last lines of a burst are shown even when no result follows them for long."""
        while not self._closed.wait(TERMINAL_BATCH_SECONDS):
            with self._held_lock:
                if self._held:
                    self._print_held()

    def flush(self) -> None:
        with self._held_lock:
            if self._held:
                self._print_held()
        super().flush()

    def recap(self, reserved: int = 0, more: str = "") -> None:
        """After the summary: the broken results again, when the listing scrolled them away.

        Only as many as fit the screen with the summary's `reserved` lines, so the summary
        stays in view; `more` says where the rest are."""
        if not self._attention or self._lines <= self.console.height:
            return
        n = self._attention_total
        room = self.console.height - reserved - 3  # blank + header, "... more"
        lines: list[Text] = []
        for result in self._attention:
            line = result_line(result)
            height = len(self.console.render_lines(line, pad=False))
            if room - height < 0 and lines:
                break
            room -= height
            lines.append(line)
        self.console.print(Text(f"\nnot ok ({n}):", style="bold"))
        for line in lines:
            self.console.print(line)
        if n > len(lines):
            rest = f"... and {n - len(lines)} more"
            self.console.print(f"{rest} ({more})" if more else rest, markup=False)
        self.flush()

    def close(self, summary: Summary) -> None:
        self._closed.set()
        if self._flusher is not None:
            self._flusher.join()
        self.flush()
        for where in sorted(self._by_source):
            self.console.print(Text("\n" + visible(where), style="bold"))
            for line, result in sorted(self._by_source[where], key=lambda e: (e[0], e[1].url)):
                row = Text(f"  {line:>5}  " if line else "  ")
                self.console.print(row + result_line(result))
                self.lines_written += 1
        super().close(summary)


def results_table(
    results: Iterable[Result], title: str | None = None, strip_prefix: str = ""
) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("url", overflow="fold")
    table.add_column("note", overflow="fold")
    for r in results:
        style = _STYLE.get(r.outcome, "")
        table.add_row(
            Text(MARKS.get(r.outcome, ""), style=style),
            Text(status_text(r), style=style),
            f"{r.elapsed_ms:.0f} ms",
            escape(visible(r.url.removeprefix(strip_prefix) if strip_prefix else r.url)),
            escape(visible(describe(r).replace(strip_prefix, "") if strip_prefix else describe(r))),
        )
    return table


def summary_table(summary: Summary) -> Table:
    table = Table(show_header=False, show_edge=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for outcome, n in sorted(summary.by_outcome.items()):
        table.add_row(Text(outcome, style=_STYLE.get(outcome, "")), str(n))
    details = [(c, n) for c, n in sorted(summary.by_category.items()) if c != "ok"]
    for category, n in details:
        table.add_row(Text(f"  {category}", style="dim"), str(n))
    if summary.duplicates:
        table.add_row(Text("duplicates skipped", style="dim"), str(summary.duplicates))
    table.add_row("total", str(summary.total))
    table.add_row("time", f"{summary.elapsed:.2f} s")
    table.add_row("rate", f"{summary.rate:,.1f} URLs/s")
    if summary.interrupted:
        table.add_row(Text("interrupted", style="yellow"), "yes")
    return table
