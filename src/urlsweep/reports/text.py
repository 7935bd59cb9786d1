"""Human-readable output: one line per URL as it completes, tables for summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from urlsweep.reports.base import Sink
from urlsweep.reports.sarif import split_source
from urlsweep.result import SKIPPED, Result
from urlsweep.summary import Summary

_STYLE = {
    "ok": "green",
    "broken": "red",
    "unverifiable": "yellow",
    "skipped": "dim",
    "tolerated": "yellow",
}
_MARK = {"ok": "✓", "broken": "✗", "unverifiable": "?", "skipped": "-", "tolerated": "~"}
CHANGE_LABELS = {"newly_broken": "newly broken", "newly_fixed": "newly fixed"}
_CHANGE_STYLE = {"newly_broken": "bold red", "newly_fixed": "bold green"}


def status_text(result: Result) -> str:
    if result.error is not None:
        return result.error
    if result.status is None:
        return result.outcome  # a local file, or a link not checked
    return str(result.status)


def describe(result: Result) -> str:
    """The note after the URL: where it went, and why it is not ok."""
    notes = []
    if result.redirects:
        n = len(result.redirects)
        notes.append(f"→ {result.final_url} ({n} redirect{'s' if n > 1 else ''})")
    if result.detail and not result.ok:
        notes.append(result.detail)
    if result.via and not result.ok:
        notes.append("in " + " ".join(result.via))
    return "  ".join(notes)


def result_line(result: Result) -> Text:
    style = _STYLE.get(result.outcome, "")
    line = Text()
    line.append(f"{_MARK.get(result.outcome, ' ')} {status_text(result):<18}", style=style)
    line.append(f"{result.method or '-':<4} {result.elapsed_ms:>7.0f} ms  ")
    line.append(result.url)
    note = describe(result)
    if note:
        line.append("  " + note, style="dim" if result.ok else style)
    return line


class TextSink(Sink):
    """One line per record as it completes.

    With `group`, records that need attention and say where they were found are held and
    printed at the end under each source file or page, as people fix them file by file.
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
        self.console = Console(file=stream, highlight=False, soft_wrap=True)

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
        self.console.print(shown)
        self.maybe_flush()

    def close(self, summary: Summary) -> None:
        for where in sorted(self._by_source):
            self.console.print(Text("\n" + where, style="bold"))
            for line, result in sorted(self._by_source[where], key=lambda e: (e[0], e[1].url)):
                row = Text(f"  {line:>5}  " if line else "  ")
                self.console.print(row + result_line(result))
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
            Text(_MARK.get(r.outcome, ""), style=style),
            Text(status_text(r), style=style),
            f"{r.elapsed_ms:.0f} ms",
            escape(r.url.removeprefix(strip_prefix) if strip_prefix else r.url),
            escape(describe(r).replace(strip_prefix, "") if strip_prefix else describe(r)),
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
