"""JSON (one document) and JSON Lines (one record per line)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TextIO

from urlsweep.reports.base import Sink
from urlsweep.result import Result
from urlsweep.summary import Summary

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder, built once: json.dumps with options builds a new encoder for every record,
# half the cost of writing a JSONL line. Same output (no circular-reference check needed:
# records are plain trees).
_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    _make_encoder(
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _make_encoder is not None
    else None
)


def dumps(record: object) -> str:
    if _C_ENCODE is None:
        return _ENCODER.encode(record)
    return "".join(_C_ENCODE(record, 0))


_last: tuple[Result, str] | None = None


def result_json(result: Result) -> str:
    """`dumps(result.to_dict())`, remembered for the latest result: the results store and a
    JSON Lines output both write every record, and encoding it is the costlier half."""
    global _last
    last = _last
    if last is not None and last[0] is result:
        return last[1]
    text = dumps(result.to_dict())
    _last = (result, text)
    return text


def record(sink: Sink, result: Result) -> dict[str, Any]:
    d = result.to_dict()
    if sink.changes is not None:
        d["change"] = sink.change(result)
    return d


class JsonlSink(Sink):
    def write(self, result: Result) -> None:
        if self.changes is None:
            self.stream.write(result_json(result) + "\n")
        else:
            self.stream.write(dumps(record(self, result)) + "\n")
        self.maybe_flush()


class JsonSink(Sink):
    """`{"results": [...], "summary": {...}}`, streamed so memory stays flat."""

    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        super().__init__(stream, changes)
        self._count = 0
        self.stream.write('{"results": [')

    def write(self, result: Result) -> None:
        self.stream.write(("\n" if self._count == 0 else ",\n") + dumps(record(self, result)))
        self._count += 1
        self.maybe_flush()

    def close(self, summary: Summary) -> None:
        self.stream.write('\n], "summary": ' + json.dumps(summary.to_dict()) + "}\n")
        self.flush()
