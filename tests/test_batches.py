"""HostBatches: the grouping that keeps each host's work in one place at a time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urlsweep.scale.batches import Batch, HostBatches


def test_full_batches_are_cut_at_size() -> None:
    b: HostBatches[int] = HostBatches(slots=4, size=3, max_out=10, linger=60)
    for i in range(7):
        b.add(1, i)
    batches = b.take()
    assert [x.items for x in batches] == [[0, 1, 2]]  # the rest waits: its slot is busy


def test_one_batch_out_per_slot_until_done() -> None:
    b: HostBatches[int] = HostBatches(slots=4, size=2, max_out=10, linger=60)
    for i in range(6):
        b.add(0, i)
    first = b.take()
    assert len(first) == 1
    assert b.take(final=True) == []  # full batches wait while the slot is busy
    b.done(first[0])
    assert [x.items for x in b.take()] == [[2, 3]]


def test_partial_batches_wait_for_more_input_unless_final() -> None:
    b: HostBatches[str] = HostBatches(slots=8, size=100, max_out=10, linger=60)
    b.add(3, "a")
    b.add(5, "b")
    assert b.take() == []
    sent = b.take(final=True)
    assert sorted((x.slots, x.items[0]) for x in sent) == [((3,), "a"), ((5,), "b")]
    assert b.buffered == 0 and b.out == 2 and not b.drained
    for x in sent:
        b.done(x)
    assert b.drained


def test_partial_batch_goes_after_linger() -> None:
    b: HostBatches[int] = HostBatches(slots=2, size=100, max_out=1, linger=0.05)
    b.add(0, 1)
    assert b.take() == []
    time.sleep(0.1)
    assert [x.items for x in b.take()] == [[1]]


def test_max_out_bounds_the_batches_out() -> None:
    b: HostBatches[int] = HostBatches(slots=16, size=1, max_out=3, linger=60)
    for slot in range(10):
        b.add(slot, slot)
    assert len(b.take()) == 3
    assert b.take() == []
    assert b.out == 3


def test_budget_bounds_what_is_buffered() -> None:
    b: HostBatches[int] = HostBatches(slots=4, size=10, max_out=1, budget=20, linger=60)
    added = 0
    while b.has_room():
        b.add(0, added)
        added += 1
    assert added == 20
    first = b.take()
    assert len(first[0].items) == 10 and b.has_room()


def test_half_full_budget_sends_the_largest_partial_batches() -> None:
    b: HostBatches[int] = HostBatches(slots=4, size=100, max_out=1, budget=40, linger=60)
    for i in range(5):
        b.add(1, i)
    for i in range(15):
        assert b.add(2, i) is (i == 14)  # 20 of 40: worth a take()
    assert [x.slots for x in b.take()] == [(2,)]


def test_a_rest_holds_the_slots_next_batch_back() -> None:
    b: HostBatches[int] = HostBatches(slots=4, size=1, max_out=5, linger=60)
    for i in range(3):
        b.add(0, i)
    b.add(1, 9)
    first = b.take()
    assert sorted(x.slots for x in first) == [(0,), (1,)]
    b.done(first[0] if first[0].slots == (0,) else first[1], rest=0.2)
    assert b.take() == []  # slot 0 rests
    time.sleep(0.25)
    assert [x.items for x in b.take()] == [[1]]


def test_drop_forgets_unsent_items_only() -> None:
    b: HostBatches[int] = HostBatches(slots=4, size=2, max_out=5, linger=60)
    for i in range(5):
        b.add(0, i)
    out = b.take()
    assert b.drop() == 3
    assert b.buffered == 0 and not b.drained
    b.done(out[0])
    assert b.drained


def test_a_batch_takes_several_hosts_each_up_to_size() -> None:
    # Six slots ready, two batches may go out, three slots each: a task's engine then has
    # three hosts' worth of requests in flight; each slot gives up to `size` items.
    b: HostBatches[tuple[int, int]] = HostBatches(slots=8, size=3, max_out=2, linger=60, hosts=3)
    for slot in range(6):
        for i in range(5):
            b.add(slot, (slot, i))
    batches = b.take(final=True)
    assert [len(x.slots) for x in batches] == [3, 3]
    assert all(len(x.items) == 9 for x in batches)  # 3 of each of its 3 slots
    assert sorted(s for x in batches for s in x.slots) == list(range(6))
    assert b.take(final=True) == []  # every slot is busy
    b.done(batches[0])
    again = b.take(final=True)
    assert [set(x.slots) for x in again] == [set(batches[0].slots)]
    assert [i for s, i in again[0].items if s == batches[0].slots[0]] == [3, 4]


def test_rejects_empty_limits() -> None:
    with pytest.raises(ValueError):
        HostBatches(slots=0, size=1, max_out=1)


@settings(max_examples=60, deadline=None)
@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("add"), st.integers(0, 5)),
            st.tuples(st.just("take"), st.booleans()),
            st.tuples(st.just("done"), st.integers(0, 20)),
        ),
        max_size=120,
    ),
    size=st.integers(1, 4),
    max_out=st.integers(1, 3),
    hosts=st.integers(1, 3),
)
def test_every_item_sent_once_in_order_one_batch_per_slot(
    ops: list[tuple[str, object]], size: int, max_out: int, hosts: int
) -> None:
    b: HostBatches[tuple[int, int]] = HostBatches(
        slots=6, size=size, max_out=max_out, budget=12, linger=60, hosts=hosts
    )
    added: list[tuple[int, int]] = []
    sent: list[tuple[int, int]] = []
    out: list[Batch[tuple[int, int]]] = []

    def take(final: bool) -> None:
        for batch in b.take(final):
            assert 1 <= len(batch.slots) <= hosts
            for slot in batch.slots:
                assert 1 <= sum(item[0] == slot for item in batch.items) <= size
            assert {item[0] for item in batch.items} == set(batch.slots)
            held = {slot for x in out for slot in x.slots}
            assert not held & set(batch.slots), "two batches of one slot out"
            out.append(batch)
            sent.extend(batch.items)
        assert len(out) <= max_out

    for op, arg in ops:
        if op == "add" and b.has_room():
            assert isinstance(arg, int)
            item = (arg, len(added))
            added.append(item)
            b.add(arg, item)
        elif op == "take":
            take(bool(arg))
        elif op == "done" and out:
            assert isinstance(arg, int)
            b.done(out.pop(arg % len(out)))
        assert b.buffered <= 12
    while not b.drained:  # end of input: everything goes, slot by slot
        take(True)
        if out:
            b.done(out.pop(0))
    assert sorted(sent) == sorted(added)  # each item exactly once
    for slot in range(6):  # a slot's items leave in the order they came
        assert [i for s, i in sent if s == slot] == [i for s, i in added if s == slot]
