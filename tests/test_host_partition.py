"""host_partition: stable, per-host, and spread evenly enough to balance shards."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from urlsweep.urls import host_partition, normalise


def test_same_host_same_shard_whatever_the_path() -> None:
    urls = [normalise(f"http://127.0.0.2:8080/p/{i}?q={i}") for i in range(50)]
    assert len({host_partition(u, 16) for u in urls}) == 1


def test_scheme_and_port_are_part_of_the_host() -> None:
    keys = ["http://a.invalid/", "https://a.invalid/", "http://a.invalid:81/"]
    # Three distinct hosts; with 2**16 shards a collision would be a 1-in-65536 accident.
    assert len({host_partition(normalise(u), 1 << 16) for u in keys}) == 3


def test_default_port_written_or_not_is_one_host() -> None:
    assert host_partition("http://a.invalid:80/x", 97) == host_partition("http://a.invalid/y", 97)


def test_stable_across_processes() -> None:
    # A fresh interpreter has a different hash() salt; the shard must not change.
    code = "from urlsweep.urls import host_partition as h; print(h('http://b.invalid/', 1000))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert int(out.stdout) == host_partition("http://b.invalid/", 1000)


def test_spread_over_shards() -> None:
    counts = Counter(host_partition(f"http://h{i}.invalid/", 8) for i in range(8000))
    assert set(counts) == set(range(8))
    assert min(counts.values()) > 800  # 1000 expected per shard


@pytest.mark.parametrize("n", [0, -1])
def test_needs_at_least_one_shard(n: int) -> None:
    with pytest.raises(ValueError):
        host_partition("http://a.invalid/", n)
