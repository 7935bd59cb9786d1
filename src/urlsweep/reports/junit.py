"""JUnit XML, one testcase per URL, for CI systems that show test reports.

Broken URLs are failures, unverifiable ones errors (both fail the build, as the exit status
does); skipped URLs and failures still tolerated by --fail-after are skipped testcases.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from urlsweep.reports.base import SpooledSink
from urlsweep.reports.text import CHANGE_LABELS, describe, status_text
from urlsweep.reports.visible import visible
from urlsweep.result import BROKEN, SKIPPED, TOLERATED, UNVERIFIABLE, Result
from urlsweep.summary import Summary

# Characters XML 1.0 cannot carry at all, even escaped (controls are written out before).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(s: str) -> str:
    return _NOT_XML.sub("\ufffd", visible(s))


def text(s: str) -> str:
    """Element text; a body of several lines keeps its line breaks (each line made inert)."""
    return escape("\n".join(_xml(line) for line in s.split("\n")))


def attr(s: str) -> str:
    return quoteattr(_xml(s))


def classname(result: Result) -> str:
    """CI tools group testcases by class: group URLs by host."""
    try:
        host = urlsplit(result.url).hostname
    except ValueError:
        host = None
    return "urlsweep." + (host or "invalid")


class JunitSink(SpooledSink):
    """Test names are the URLs as written, so a CI's history of a test follows one URL; a
    change against the previous run goes into the failure message. Broken ones come first."""

    def write(self, result: Result) -> None:
        seconds = f"{result.elapsed_ms / 1000:.3f}"
        change = self.change(result)
        rows = [
            f"    <testcase classname={attr(classname(result))} name={attr(result.url)}"
            f' time="{seconds}"'
        ]
        message = f"{status_text(result)}: {result.detail or result.outcome}"
        if change is not None:
            message = f"[{CHANGE_LABELS[change]}] {message}"
        body = describe(result)
        if result.sources:
            body += ("\n" if body else "") + "listed in " + ", ".join(result.sources)
            if result.via:
                body += " (" + " ".join(result.via) + ")"
        if result.outcome == BROKEN:
            element = "failure"
        elif result.outcome == UNVERIFIABLE:
            element = "error"
        elif result.outcome in (SKIPPED, TOLERATED):
            element = "skipped"
        else:
            element = ""
        if element:
            rows.append(
                f">\n      <{element} message={attr(message)} type={attr(result.category)}>"
                f"{text(body)}</{element}>\n    </testcase>\n"
            )
        else:
            rows.append("/>\n")
        self.spool(result, "".join(rows))

    def head(self, summary: Summary) -> str:
        by = summary.by_outcome
        counts = (
            f'tests="{summary.total}" failures="{by[BROKEN]}" errors="{by[UNVERIFIABLE]}"'
            f' skipped="{by[SKIPPED] + by[TOLERATED]}" time="{summary.elapsed:.3f}"'
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name="urlsweep" {counts}>\n'
            f'  <testsuite name="urlsweep" {counts}>\n'
        )

    def tail(self, summary: Summary) -> str:
        return "  </testsuite>\n</testsuites>\n"
