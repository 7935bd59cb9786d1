"""Where URLs come from: arguments, text files and stdin, read lazily line by line."""

from __future__ import annotations

import codecs
import io
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from urlsweep.errors import InputError as InputError  # defined there, raised here

MAX_LINE = 16 * 1024  # longer lines are reported as invalid, never held whole
SNIFF = 8192  # bytes looked at for a NUL before any request: a binary file is no URL list


@dataclass(frozen=True, slots=True)
class Target:
    """A URL as the user wrote it, with where it was found (for reports)."""

    raw: str
    source: str | None = None
    invalid: str | None = None  # set when the line itself is unusable (encoding, length)


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class _Utf16AsUtf8:
    """A UTF-16 list (Windows PowerShell 5 writes `>` redirects so, BOM first) read as the
    UTF-8 lines `_lines` expects; the BOM says which byte order."""

    def __init__(self, stream: BinaryIO) -> None:
        self._text = io.TextIOWrapper(stream, encoding="utf-16", errors="replace", newline=None)

    def readline(self, size: int = -1) -> bytes:
        return self._text.readline(size).encode()  # errors="replace": nothing unencodable


def _starts_utf16(stream: BinaryIO) -> bool:
    peek = getattr(stream, "peek", None)
    return peek is not None and bytes(peek(2)[:2]) in _UTF16_BOMS


def _lines(stream: BinaryIO, name: str) -> Iterator[Target]:
    if _starts_utf16(stream):
        yield from _lines(_Utf16AsUtf8(stream), name)  # type: ignore[arg-type]
        return
    lineno = 0
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        lineno += 1
        src = f"{name}:{lineno}"
        if b"\x00" in line:  # text has no NUL: a binary file (or UTF-16), not a URL list
            raise InputError(
                f"{name}: binary data on line {lineno}, not a list of URLs"
                " (UTF-16 without a byte-order mark? save it as UTF-8)"
            )
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            # Swallow the rest of the over-long line in bounded pieces.
            while (more := stream.readline(MAX_LINE)) and not more.endswith(b"\n"):
                pass
            yield Target(line[:80].decode("utf-8", "replace") + "...", src, "line too long")
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = line.decode("utf-8", "replace")
            if not _is_comment_or_blank(text):
                yield Target(text.strip(), src, "line is not valid UTF-8")
            continue
        if not _is_comment_or_blank(text):
            yield Target(text.strip().lstrip("\ufeff").strip(), src)


def _is_comment_or_blank(text: str) -> bool:
    text = text.strip().lstrip("\ufeff").strip()
    return not text or text.startswith("#")


def classify_arg(arg: str) -> str:
    """'stdin', 'url' or 'file' for one command-line INPUT; raises InputError if none fits."""
    if arg == "-":
        return "stdin"
    if "://" in arg:
        return "url"
    if os.path.isdir(arg):
        raise InputError(f"{arg}: is a directory, not a URL list")
    if os.path.exists(arg):
        if not os.access(arg, os.R_OK):
            raise InputError(f"{arg}: permission denied")
        return "file"
    raise InputError(f"{arg}: no such file (and not a URL: URLs need a scheme like https://)")


def check_inputs(args: Iterable[str]) -> None:
    """Fail early, before any request, on inputs that cannot be read."""
    stdin_seen = False
    for arg in args:
        kind = classify_arg(arg)
        if kind == "stdin":
            if stdin_seen:
                raise InputError("'-' (stdin) given more than once")
            stdin_seen = True
        elif kind == "file":
            _not_binary(arg)


def _not_binary(path: str) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    if head[:2] in _UTF16_BOMS:
        return  # UTF-16 with its byte-order mark: read as text
    if b"\x00" in head:
        raise InputError(
            f"{path}: a binary file, not a list of URLs (one per line); UTF-16 needs its"
            " byte-order mark, or save it as UTF-8"
        )


def not_one_url(urls: object) -> None:
    """A library caller's `urls` must be many URLs: a str would be checked character by
    character."""
    if isinstance(urls, str | bytes):
        raise TypeError(
            f"urls: want an iterable of URLs (a list, a generator, a file), not one "
            f"{type(urls).__name__}: check([{urls!r}])"
        )


def read_inputs(args: Iterable[str], stdin: BinaryIO | None = None) -> Iterator[Target]:
    """Yield targets from every INPUT in order, opening files only when reached."""
    for arg in args:
        kind = classify_arg(arg)
        if kind == "url":
            yield Target(arg, None)
        elif kind == "stdin":
            yield from _lines(stdin or sys.stdin.buffer, "<stdin>")
        else:
            try:
                f = open(arg, "rb")  # noqa: SIM115 - closed below, generator-scoped
            except OSError as exc:
                raise InputError(f"{arg}: {exc.strerror or exc}") from exc
            with f:
                yield from _lines(f, arg)


def count_lines(args: Iterable[str], limit: int | None = None) -> int | None:
    """A cheap upper bound of the work for a progress bar; None if any input is a stream.

    With `limit`, counting stops once it is reached (the answer is then at least `limit`).
    """
    total = 0
    for arg in args:
        if limit is not None and total >= limit:
            break
        kind = classify_arg(arg)
        if kind == "stdin":
            return None
        if kind == "url":
            total += 1
            continue
        try:
            with open(arg, "rb") as f:
                while (limit is None or total < limit) and (chunk := f.read(1 << 20)):
                    total += chunk.count(b"\n")
        except OSError:
            return None
    return total
