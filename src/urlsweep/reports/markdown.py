"""Markdown for issue and pull-request comments: the totals, what changed, what is not ok.

URLs go in code spans and free text is backslash-escaped, so nothing a server or an input
line says can turn into a link, an image or HTML when the comment is rendered. That holds for
URLs inside free text too (a redirect target, a detail naming one): GitHub turns bare URLs,
`www.` names and e-mail addresses into links, so they go in code spans as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TextIO

from urlsweep.reports.base import SpooledSink
from urlsweep.reports.text import CHANGE_LABELS, attempts_note, status_text
from urlsweep.reports.visible import MARKS, visible
from urlsweep.result import Result
from urlsweep.summary import NEWLY_BROKEN, NEWLY_FIXED, Summary

# Inline Markdown syntax; this text never starts a line, so list and heading marks are inert.
_PUNCT = re.compile(r"([\\`*_\[\]<>|~&])")
_SPACE = re.compile(r"\s+")


def md_text(s: str) -> str:
    return _PUNCT.sub(r"\\\1", visible(_SPACE.sub(" ", s).strip()))


# What GitHub's autolinker (or a Markdown autolink) would turn into a live link.
_LINKISH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:/*|www\.)\S+|\S+@\S+", re.I)


def md_inert(s: str) -> str:
    """Free text with every link-like word in a code span: nothing in it is a live link."""
    words = _SPACE.sub(" ", s).strip().split(" ")
    return " ".join(md_code(w, True) if _LINKISH.search(w) else md_text(w) for w in words)


def describe_inert(result: Result) -> str:
    """`describe` for Markdown: the redirect target and the detail kept inert."""
    notes = []
    if result.redirects:
        n = len(result.redirects)
        target = md_code(result.final_url or "", in_table=True)
        notes.append(f"→ {target} ({n} redirect{'s' if n > 1 else ''})")
    if result.detail and not result.ok:
        notes.append(md_inert(result.detail))
    if attempts := attempts_note(result):
        notes.append(md_text(attempts))
    return "  ".join(notes)


def md_code(s: str, in_table: bool = False) -> str:
    """A code span that holds `s` whatever it contains (backticks, pipes, HTML)."""
    s = visible(_SPACE.sub(" ", s))
    if in_table:
        s = s.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def table_cell(s: str) -> str:
    return md_text(s)  # backslash-escaping covers the pipe too


GITHUB_LIMIT = 65_536  # characters in a GitHub issue or pull-request comment
CHANGES_LISTED = 100  # per kind of change, under a limit (the table has them all anyway)
_MORE_ROOM = 200  # kept free for the "N more results" line


class MarkdownSink(SpooledSink):
    """Lists only the URLs that need attention (broken first): a comment must stay readable,
    and under `limit` characters (GitHub's comment limit; 0 lifts it)."""

    rows = 0

    def __init__(
        self, stream: TextIO, changes: Mapping[str, str] | None = None, limit: int = GITHUB_LIMIT
    ) -> None:
        super().__init__(stream, changes)
        self.limit = limit

    def close(self, summary: Summary) -> None:
        head = self.head(summary)
        self.stream.write(head)
        size, left_out = len(head), 0
        for spool in self.spooled():
            for row in spool:
                if self.limit and (left_out or size + len(row) + _MORE_ROOM > self.limit):
                    left_out += 1
                    continue
                self.stream.write(row)
                size += len(row)
        if left_out:
            self.stream.write(
                f"\n{left_out} more results not shown: the comment would pass "
                f"{self.limit:,} characters (`--markdown-limit 0` lifts the limit).\n"
            )
        self.flush()

    def write(self, result: Result) -> None:
        change = self.change(result)
        if result.ok and change is None:
            return
        self.rows += 1
        mark = MARKS.get(result.outcome, "")
        note = describe_inert(result)
        if change is not None:
            note = f"**{CHANGE_LABELS[change]}** {note}".rstrip()
        self.spool(
            result,
            f"| {mark} {result.outcome} | {md_text(status_text(result))} "
            f"| {md_code(result.url, in_table=True)} | {note} |\n",
        )

    def head(self, summary: Summary) -> str:
        lines = ["## urlsweep report", ""]
        run = summary.run
        if run is not None:
            lines += [f"Run {run['id']}, started {md_text(str(run['started']))}.", ""]
        parts = [f"{n} {outcome}" for outcome, n in sorted(summary.by_outcome.items())]
        lines.append(
            f"**{summary.not_ok} of {summary.total} URLs need attention** "
            f"({', '.join(parts) or 'no URLs'}; {summary.elapsed:.1f} s)."
        )
        if summary.interrupted:
            lines.append("The run was interrupted: not every URL was checked.")
        lines.append("")
        changes = summary.changes
        if changes:
            for kind in (NEWLY_BROKEN, NEWLY_FIXED):
                urls = sorted(u for u, c in changes.items() if c == kind)
                if urls:
                    lines.append(f"### {CHANGE_LABELS[kind].capitalize()} ({len(urls)})")
                    lines.append("")
                    cut = urls[:CHANGES_LISTED] if self.limit else urls
                    lines += [f"- {md_code(u)}" for u in cut]
                    if len(cut) < len(urls):
                        lines.append(f"- ... and {len(urls) - len(cut)} more")
                    lines.append("")
        if self.rows:
            lines += [
                "### Not ok or changed",
                "",
                "| outcome | status | URL | note |",
                "| --- | --- | --- | --- |",
            ]
        return "\n".join(lines) + "\n"
