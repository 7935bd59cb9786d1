"""Markdown documents are parsed on a thread pool; every thread must get the same answer.

markdown-it and mdurl fill caches lazily (a rule chain, a percent-encoding table) and publish them
before they are full, so two threads on a cold parser could crash (IndexError in mdurl.encode,
seen in CI) or silently use half a rule chain.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import mdurl._decode
import mdurl._encode
import pytest

from urlsweep.links.extract import markdown

DOC = (
    "# Title\n\n"
    "[a](a.md) [b](https://example.invalid/b?q=1#x) ![i](img/x.png)\n"
    "<a href='raw.html'>raw</a> [ref][r]\n\n"
    "[r]: ref/target.md\n"
)


@pytest.fixture
def busy_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter can, so a race shows in a few rounds."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _cold() -> None:
    """Every lazily filled cache back to empty, as in a fresh process."""
    mdurl._encode.encode_cache.clear()
    mdurl._decode.decode_cache.clear()
    markdown.reset_parsers()


def test_cold_parser_on_many_threads_gives_one_answer(busy_switching: None) -> None:
    expected = [(link.href, link.line) for link in markdown.parse_markdown(DOC).links]
    assert ("a.md", 3) in expected and ("ref/target.md", 4) in expected
    errors: list[BaseException] = []
    answers: list[list[tuple[str, int]]] = []

    def parse(gate: threading.Barrier) -> None:
        gate.wait()
        try:
            links = markdown.parse_markdown(DOC).links
            answers.append([(link.href, link.line) for link in links])
        except BaseException as exc:
            errors.append(exc)

    for _ in range(30):
        _cold()
        gate = threading.Barrier(8)
        threads = [threading.Thread(target=parse, args=(gate,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(answers) == 240 and all(a == expected for a in answers)
