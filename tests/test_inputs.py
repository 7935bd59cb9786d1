"""The input reader: lazy, tolerant of any bytes, strict about unreadable inputs."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from urlsweep.inputs import MAX_LINE, InputError, Target, check_inputs, count_lines, read_inputs


def test_reads_files_args_and_stdin(tmp_path: Path) -> None:
    f = tmp_path / "urls.txt"
    f.write_bytes(b"# a comment\n\n  http://a.example/  \nhttp://b.example/\r\n   # indented\n")
    stdin = io.BytesIO(b"http://c.example/\n")
    got = list(read_inputs(["http://arg.example/", str(f), "-"], stdin=stdin))
    assert got == [
        Target("http://arg.example/", None),
        Target("http://a.example/", f"{f}:3"),
        Target("http://b.example/", f"{f}:4"),
        Target("http://c.example/", "<stdin>:1"),
    ]


def test_reading_is_lazy(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    with f.open("w") as out:
        for i in range(200_000):
            out.write(f"http://h{i}.example/\n")
    it = read_inputs([str(f)])
    first = list(itertools.islice(it, 3))
    assert [t.raw for t in first] == [f"http://h{i}.example/" for i in range(3)]


def test_bad_bytes_and_long_lines_become_invalid_targets() -> None:
    data = (
        b"http://ok.example/\nhttp://\xff\xfe.example/\n"
        + b"x" * (MAX_LINE + 10)
        + b"\nhttp://z/\n"
    )
    got = list(read_inputs(["-"], stdin=io.BytesIO(data)))
    assert got[0] == Target("http://ok.example/", "<stdin>:1")
    assert got[1].invalid == "line is not valid UTF-8"
    assert got[2].invalid == "line too long"
    assert len(got[2].raw) < 100
    assert got[3] == Target("http://z/", "<stdin>:4")


def test_unreadable_inputs_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        check_inputs([str(tmp_path / "missing.txt")])
    with pytest.raises(InputError, match="is a directory"):
        check_inputs([str(tmp_path)])
    with pytest.raises(InputError, match="more than once"):
        check_inputs(["-", "-"])


def test_count_lines(tmp_path: Path) -> None:
    f = tmp_path / "u.txt"
    f.write_text("http://a/\nhttp://b/\n")
    assert count_lines([str(f), "http://c/"]) == 3
    assert count_lines(["-"]) is None


@given(st.binary(max_size=2000))
def test_reader_never_crashes_on_any_bytes(data: bytes) -> None:
    try:
        for target in read_inputs(["-"], stdin=io.BytesIO(data)):
            assert isinstance(target.raw, str)
            assert target.raw == target.raw.strip() or target.invalid
            assert not target.raw.startswith("#")
    except InputError as exc:  # binary data (a NUL byte) is one clear error, nothing else
        assert b"\x00" in data and "binary data" in str(exc)
