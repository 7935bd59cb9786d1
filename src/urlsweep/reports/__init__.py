"""Output formats. Every format is a `Sink`: fed each result as it arrives, closed once.

Streaming formats (text, jsonl, csv) write as results come, so a long run is useful while
it runs; `json` is one document, valid once the sink is closed; junit, markdown and html
put totals first, so they spool their rows and write everything at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from .base import Sink
from .csvfmt import CsvSink
from .html import HtmlSink
from .jsonfmt import JsonlSink, JsonSink
from .junit import JunitSink
from .markdown import MarkdownSink
from .sarif import SarifSink
from .text import TextSink

# Every factory takes the stream and an optional `changes` mapping (see Sink).
FORMATS: dict[str, Callable[..., Sink]] = {
    "text": TextSink,
    "json": JsonSink,
    "jsonl": JsonlSink,
    "csv": CsvSink,
    "sarif": SarifSink,
    "junit": JunitSink,
    "markdown": MarkdownSink,
    "html": HtmlSink,
}


def make_sink(fmt: str, stream: TextIO, **kwargs: Any) -> Sink:
    try:
        factory = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})") from None
    return factory(stream, **kwargs)


__all__ = ["FORMATS", "Sink", "make_sink"]
