"""SARIF 2.1.0, so CI code scanning shows each broken link inline at the line that has it.

One SARIF result per (broken record, source): code-scanning tools show the first location of
a result only, and a link broken in five files should be five annotations.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from urlsweep import result as R
from urlsweep._version import __version__
from urlsweep.reports.base import Sink
from urlsweep.reports.visible import visible
from urlsweep.result import Result
from urlsweep.summary import Summary

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
RULES: tuple[dict[str, Any], ...] = (
    {
        "id": "broken-link",
        "name": "BrokenLink",
        "shortDescription": {"text": "Broken link"},
        "fullDescription": {
            "text": "The link points to a page, file or anchor that does not exist or fails."
        },
        "defaultConfiguration": {"level": "error"},
    },
    {
        "id": "unverifiable-link",
        "name": "UnverifiableLink",
        "shortDescription": {"text": "Link that could not be verified"},
        "fullDescription": {
            "text": "The server refused or limited the check; the link may work in a browser."
        },
        "defaultConfiguration": {"level": "warning"},
    },
)
_RULE_OF = {R.BROKEN: (0, "error"), R.UNVERIFIABLE: (1, "warning")}


def split_source(source: str) -> tuple[str, int | None]:
    """'docs/a.md:12' -> ('docs/a.md', 12); a page URL has no line."""
    path, sep, line = source.rpartition(":")
    if sep and line.isdigit() and path:
        return path, int(line)
    return source, None


def location(source: str) -> dict[str, Any]:
    path, line = split_source(source)
    artifact: dict[str, Any] = {"uri": visible(path)}
    if "://" not in path:
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line is not None:
        physical["region"] = {"startLine": max(1, line)}
    return {"physicalLocation": physical}


def sarif_results(result: Result) -> list[dict[str, Any]]:
    rule = _RULE_OF.get(result.outcome)
    if rule is None:
        return []
    index, level = rule
    why = result.detail or (f"HTTP {result.status}" if result.status else result.category)
    base: dict[str, Any] = {
        "ruleId": RULES[index]["id"],
        "ruleIndex": index,
        "level": level,
        "message": {"text": visible(f"{result.url}: {why}")},  # shown as is by CI pages
        "properties": {
            "url": visible(result.url),
            "status": result.status,
            "error": result.error,
            "via": list(result.via),
            "elapsed_ms": round(result.elapsed_ms, 1),
            "attempt_ms": [round(ms, 1) for ms in result.attempt_ms],
        },
    }
    if not result.sources:
        return [base]
    return [{**base, "locations": [location(s)]} for s in result.sources]


class SarifSink(Sink):
    """One SARIF log with one run; results streamed, the document valid once closed."""

    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        super().__init__(stream, changes)
        self._count = 0
        head = {
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "urlsweep",
                            "version": __version__,
                            "informationUri": "https://pypi.org/project/urlsweep/",
                            "rules": list(RULES),
                        }
                    },
                    "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "checkout"}}},
                    "results": [],
                }
            ],
        }
        text = json.dumps(head, indent=None, ensure_ascii=False)
        # Everything up to the results array; the rest is written on close.
        cut = text.rindex('"results": []') + len('"results": [')
        self._tail = text[cut:]
        self.stream.write(text[:cut])

    def write(self, result: Result) -> None:
        for record in sarif_results(result):
            sep = "\n" if self._count == 0 else ",\n"
            self.stream.write(sep + json.dumps(record, ensure_ascii=False))
            self._count += 1
        self.maybe_flush()

    def close(self, summary: Summary) -> None:
        self.stream.write("\n" + self._tail + "\n")
        self.flush()
