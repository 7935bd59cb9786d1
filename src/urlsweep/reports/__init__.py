"""Output formats. Every format is a `Sink`: fed each result as it arrives, closed once.

Streaming formats (text, jsonl, csv) write as results come, so a long run is useful while
it runs; `json` is one document, valid once the sink is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from .base import Sink
from .csvfmt import CsvSink
from .jsonfmt import JsonlSink, JsonSink
from .sarif import SarifSink
from .text import TextSink

FORMATS: dict[str, Callable[[TextIO], Sink]] = {
    "text": TextSink,
    "json": JsonSink,
    "jsonl": JsonlSink,
    "csv": CsvSink,
    "sarif": SarifSink,
}


def make_sink(fmt: str, stream: TextIO, **kwargs: object) -> Sink:
    try:
        factory = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    return factory(stream, **kwargs)


__all__ = ["FORMATS", "Sink", "make_sink"]
