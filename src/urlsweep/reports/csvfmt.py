"""CSV with one column per record field, safe to open in a spreadsheet (no formulas) and
to print (control characters written out, see visible.py)."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from typing import TextIO

from urlsweep.reports.base import Sink
from urlsweep.reports.visible import visible
from urlsweep.result import FIELDS, Result

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Prefix a quote so spreadsheets show, not evaluate, cells like ``=HYPERLINK(...)``."""
    cell = "'" + cell if cell.startswith(_FORMULA_START) else cell
    return visible(cell)


def row(result: Result) -> list[str]:
    d = result.to_dict()
    d["redirects"] = json.dumps(d["redirects"], ensure_ascii=False) if d["redirects"] else ""
    d["sources"] = " ".join(d["sources"])
    d["via"] = " ".join(d["via"])
    d["attempt_ms"] = " ".join(f"{ms:g}" for ms in d["attempt_ms"])
    cells = []
    for name in FIELDS:
        value = d[name]
        if value is None:
            cells.append("")
        elif isinstance(value, bool):
            cells.append("true" if value else "false")
        else:
            cells.append(neutralise(str(value)))
    return cells


class CsvSink(Sink):
    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        super().__init__(stream, changes)
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(FIELDS + (("change",) if changes is not None else ()))

    def write(self, result: Result) -> None:
        cells = row(result)
        if self.changes is not None:
            cells.append(self.change(result) or "")
        self._writer.writerow(cells)
        self.maybe_flush()
