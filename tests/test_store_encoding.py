"""How results become store rows: the hand-written encoding must be the JSON one, and the
signatures and keys of results must stay what earlier stores hold (else every URL of an
existing store would look changed once, and history would show a change that never was)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest

from urlsweep.engine.dedup import url_digest
from urlsweep.result import Hop, Result
from urlsweep.store import writes
from urlsweep.store.keys import _signed, key_of
from urlsweep.store.writes import columns, decode, generic_columns

SAMPLES = [
    Result(
        url="http://a.test/x",
        final_url="http://a.test/x",
        status=200,
        ok=True,
        outcome="ok",
        method="HEAD",
        elapsed_ms=12.3,
        attempts=1,
        attempt_ms=(12.34,),
        ip="127.0.0.1",
        sources=("urls.txt:1",),
    ),
    Result(
        url="http://b.test/é",
        final_url="http://b.test/%C3%A9",
        status=404,
        method="GET",
        attempts=2,
        redirects=(Hop('http://b.test/"q"', 301),),
        sources=("a\u2028b", "c:2"),
        via=("a[href]",),
        attempt_ms=(1.25, 3.0),
        detail="not found\n",
    ),
    Result(url="::bad", error="invalid_url", detail="no scheme"),
]
# Computed by the JSON encoding that format-2 stores were written with.
KNOWN = [
    (-2158973163895315060, -807547923963140184),
    (-6723605248914402795, 7466647272244523602),
    (5207841380857197803, -2222404424896312124),
]

ODD = [
    Result(
        url='u"\\\x00\x1f\ud800',
        redirects=(Hop("http://a/\n", 301), Hop("b", 302), Hop("c", 308)),
        sources=("s\u2028", "t", ""),
        via=("a[href]", 'q"', "é"),
        attempt_ms=(1.25, 3.0, 1e-7, 12345678901.2, 0.05, 2.0),
        detail="d",
    ),
    Result(url="y", attempt_ms=(math.inf,)),
    Result(url="n", attempt_ms=(math.nan, 1.0)),
    Result(url="m", attempt_ms=(math.nan,)),
    Result(url="o", attempt_ms=(0.04,)),
    Result(url="z"),
]


@pytest.mark.parametrize("result", SAMPLES + ODD)
def test_columns_are_the_json_encoding(result: Result) -> None:
    """Byte for byte what json.dumps wrote: signatures compare across versions."""
    assert columns(result) == generic_columns(result)


def test_signatures_and_keys_of_earlier_stores_still_match() -> None:
    got = [(columns(r)[0], key_of(r.url)) for r in SAMPLES]
    assert got == KNOWN


def test_key_is_the_signed_url_digest() -> None:
    for url in ["", "a", "http://x.test/", "é" * 40, *map(str, range(2000))]:
        assert key_of(url) == _signed(url_digest(url))
    # of the masked form: no password reaches the store, not even hashed
    assert key_of("http://u:pw@x.test/") == _signed(url_digest("http://u:***@x.test/"))


@pytest.mark.parametrize("result", SAMPLES + ODD[:2])
def test_encoded_columns_decode_to_the_same_record(result: Result) -> None:
    _, cols = columns(result)
    back = decode(cols, round(result.elapsed_ms * 10))
    expected = json.loads(json.dumps(result.to_dict()))
    assert json.loads(json.dumps(back.to_dict())) == expected


def test_fields_added_to_results_take_the_generic_encoding() -> None:
    """`columns` knows the extra fields by name; any other set must not take its path."""
    fast = writes._EXTRA_FIELDS == ("via", "attempt_ms")
    assert fast is writes._FAST


@pytest.mark.parametrize("field", ["url", "final_url", "detail", "sources", "redirects", "none"])
def test_masked_sees_a_password_in_every_field(field: str) -> None:
    """The recorder masks every record: its quick test for an "@" must miss none."""
    secret = "http://u:pw@x.test/"
    values: dict[str, Any] = {
        "url": secret,
        "final_url": secret,
        "detail": f"redirect to {secret}",
        "sources": ("a.txt:1", secret),
        "redirects": (Hop("http://x.test/", 301), Hop(secret, 302)),
    }
    plain = Result(url="http://x.test/", final_url="http://x.test/", sources=("a.txt:1",))
    if field == "none":
        assert plain.masked() is plain
        return
    record = dataclasses.replace(plain, **{field: values[field]})
    masked = record.masked()
    assert "pw" not in repr(masked) and "***" in repr(masked)
