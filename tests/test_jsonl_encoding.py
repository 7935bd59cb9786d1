"""The JSONL writer's prebuilt encoder must write exactly what json.dumps would."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from urlsweep.reports.jsonfmt import JsonlSink
from urlsweep.result import Hop, Result

results = st.builds(
    Result,
    url=st.text(max_size=20),
    final_url=st.none() | st.text(max_size=20),
    status=st.none() | st.integers(100, 999),
    ok=st.booleans(),
    error=st.none() | st.sampled_from(["dns", "timeout"]),
    detail=st.text(max_size=20),
    redirects=st.lists(st.builds(Hop, st.text(max_size=20), st.integers(300, 399)), max_size=3).map(
        tuple
    ),
    method=st.none() | st.sampled_from(["HEAD", "GET"]),
    elapsed_ms=st.floats(0, 1e7),
    attempts=st.integers(0, 5),
    ip=st.none() | st.text(max_size=40),
    sources=st.lists(st.text(max_size=20), max_size=3).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(results, max_size=5))
def test_lines_are_what_json_dumps_writes(records: list[Result]) -> None:
    out = io.StringIO()
    sink = JsonlSink(out)
    for r in records:
        sink.write(r)
    expected = "".join(
        json.dumps(r.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n" for r in records
    )
    assert out.getvalue() == expected
    assert [json.loads(line) for line in out.getvalue().split("\n")[:-1]] == [
        r.to_dict() for r in records
    ]


@settings(max_examples=100)
@given(st.lists(results, min_size=2, max_size=2))
def test_shared_record_json_is_each_results_own(pair: list[Result]) -> None:
    """The store and the JSONL sink share one encoding per result: never another's."""
    from urlsweep.reports.jsonfmt import result_json

    a, b = pair
    for r in (a, a, b, a, b, b):
        assert json.loads(result_json(r)) == json.loads(json.dumps(r.to_dict()))
