"""DigestSet: a compact set of 64-bit digests that must behave exactly like `set`."""

from __future__ import annotations

import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from urlsweep.engine.dedup import DigestSet
from urlsweep.engine.pipeline import url_digest

digests = st.integers(0, 2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(digests, st.integers(0, 40)), max_size=300))
def test_behaves_like_a_set(values: list[int]) -> None:
    compact, reference = DigestSet(capacity=4), set()
    for v in values:
        assert compact.insert(v) == (v not in reference)
        reference.add(v)
    assert len(compact) == len(reference)
    assert all(v in compact for v in reference)


def test_zero_is_a_digest_like_any_other() -> None:
    s = DigestSet()
    assert 0 not in s
    assert s.insert(0)
    assert 0 in s
    assert not s.insert(0)


def test_grows_past_its_first_table_and_keeps_everything() -> None:
    s = DigestSet(capacity=16)
    ds = [url_digest(f"http://127.0.0.1/{i}") for i in range(20_000)]
    assert all(s.insert(d) for d in ds)
    assert not any(s.insert(d) for d in ds)
    assert len(s) == 20_000
    assert url_digest("http://127.0.0.1/other") not in s
    # 8 bytes a slot, at most half full: the point of the class.
    assert len(s._slots) * 8 <= 16 * 2 * 20_000


def test_the_table_doubles_without_a_copy_beside_it() -> None:
    # At a million URLs the table doubles to 16 MB: its growth must take that and the old
    # table, not a third buffer of zeros as large as the new one on top.
    s = DigestSet(capacity=1 << 15)  # 65,536 slots: 512 KB
    digests = iter(range(1, 1 << 20))
    while len(s) * 2 < (1 << 16) - 2:
        s.insert(next(digests))
    old = 8 * (1 << 16)
    tracemalloc.start()
    try:
        s.insert(next(digests))  # past half full: the table doubles here
        s.insert(next(digests))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(s._slots) == 1 << 17  # it did double
    assert peak < 2 * old + old // 4, peak  # the new table (2x), not the new one and a copy
    assert all(d in s for d in range(1, len(s) + 1))
