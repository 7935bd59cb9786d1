"""JSON (one document) and JSON Lines (one record per line)."""

from __future__ import annotations

import json
from typing import TextIO

from ..result import Result
from ..summary import Summary
from .base import Sink


def dumps(record: object) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class JsonlSink(Sink):
    def write(self, result: Result) -> None:
        self.stream.write(dumps(result.to_dict()) + "\n")
        self.maybe_flush()


class JsonSink(Sink):
    """`{"results": [...], "summary": {...}}`, streamed so memory stays flat."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._count = 0
        self.stream.write('{"results": [')

    def write(self, result: Result) -> None:
        self.stream.write(("\n" if self._count == 0 else ",\n") + dumps(result.to_dict()))
        self._count += 1
        self.maybe_flush()

    def close(self, summary: Summary) -> None:
        self.stream.write('\n], "summary": ' + json.dumps(summary.to_dict()) + "}\n")
        self.flush()
