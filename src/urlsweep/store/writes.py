"""A batch of results into the store: a result is written only when it differs from the
URL's latest one under the same profile; each URL a run covers costs one small `seen` row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Sequence
from json.encoder import encode_basestring as _quote  # what json.dumps uses for ensure_ascii=False
from operator import itemgetter
from typing import Any, Final, NamedTuple

from urlsweep.result import SKIPPED, Result
from urlsweep.store.keys import result_key

# Record fields kept in columns of their own; any other field goes to `extra` (JSON).
_COLUMNS: Final = (
    "url",
    "final_url",
    "status",
    "ok",
    "outcome",
    "error",
    "detail",
    "method",
    "attempts",
    "ip",
)
_KNOWN: Final = frozenset({"elapsed_ms", "redirects", "sources", *_COLUMNS})
_TIMING: Final = frozenset({"attempt_ms"})  # extra fields left out of a result's signature
_EXTRA_FIELDS: Final = tuple(f.name for f in dataclasses.fields(Result) if f.name not in _KNOWN)
RESULT_FIELDS: Final = (*_COLUMNS, "redirects", "sources", "extra")
# The record fields `columns` encodes by hand; any other set takes `generic_columns`.
_HAND_ENCODED: Final = ("via", "attempt_ms")
_FAST: Final = _EXTRA_FIELDS == _HAND_ENCODED and sorted(_TIMING) == ["attempt_ms"]
_blake = hashlib.blake2b


class Item(NamedTuple):
    """One result as the recorder hands it over."""

    result: Result
    checked_at: float
    cached_from: int | None
    seq: int


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _strings(values: Sequence[str]) -> str:
    """`_dumps(list(values))` for strings, without the encoder's set-up (~10 µs a call)."""
    return "[" + ",".join(map(_quote, values)) + "]"


def _tenths(values: Sequence[float]) -> str:
    """`_dumps` of the values rounded as `to_dict` rounds them (JSON numbers are reprs)."""
    # One attempt, nearly always: no list, no join (with them, 13 % of the writer's GIL
    # samples, py-spy --gil, 200,000 URLs into a new store).
    if len(values) == 1:
        text = "[" + repr(round(values[0], 1)) + "]"
    else:
        text = "[" + ",".join([repr(round(v, 1)) for v in values]) + "]"
    return text if "n" not in text else _dumps([round(v, 1) for v in values])  # nan, inf


def columns(result: Result) -> tuple[int, tuple[Any, ...]]:
    """The result's signature (what it says, timing aside) and its column values.

    Encoded by hand (one JSON document per row was the store's largest CPU cost): the
    text is exactly what `json.dumps` wrote before, so signatures of stored results still
    match (`generic_columns` is the reference, and the fallback for fields added since).
    """
    if not _FAST:
        return generic_columns(result)
    sig, said = _said(result)
    return sig, (*said[:-1], _extra(result))


def _said(result: Result) -> tuple[int, tuple[Any, ...]]:
    """The signature and the columns it is made of: `columns` with the extra fields that
    are timing left out. An unchanged result (the common case) needs no more."""
    r = result
    hops = r.redirects
    said = (
        r.url,
        r.final_url,
        r.status,
        int(r.ok),
        r.outcome,
        r.error,
        r.detail or None,
        r.method,
        r.attempts,
        r.ip,
        "[" + ",".join([f"[{_quote(h.url)},{int(h.status)}]" for h in hops]) + "]"
        if hops
        else None,
        _strings(r.sources) if r.sources else None,
        '{"via":' + _strings(r.via) + "}" if r.via else '{"via":[]}',
    )
    sig = int.from_bytes(_blake(repr(said).encode(), digest_size=8).digest(), "big")
    return sig - (1 << 63), said


def _extra(result: Result) -> str:
    via = _strings(result.via) if result.via else "[]"
    return '{"via":' + via + ',"attempt_ms":' + _tenths(result.attempt_ms) + "}"


def generic_columns(result: Result) -> tuple[int, tuple[Any, ...]]:
    """`columns` through `to_dict` and `json.dumps`, for any set of record fields."""
    r = result
    hops = r.redirects
    extra = said = None
    if _EXTRA_FIELDS:  # fields added to Result since: kept as the JSON output has them
        d = r.to_dict()
        extra = _dumps({k: d[k] for k in _EXTRA_FIELDS if k in d})
        # Timing is not what a result says: an unchanged result keeps its row (as elapsed_ms).
        said = _dumps({k: d[k] for k in _EXTRA_FIELDS if k in d and k not in _TIMING})
    cols = (
        r.url,
        r.final_url,
        r.status,
        int(r.ok),
        r.outcome,
        r.error,
        r.detail or None,
        r.method,
        r.attempts,
        r.ip,
        _dumps([[h.url, h.status] for h in hops]) if hops else None,
        _dumps(r.sources) if r.sources else None,
        extra,
    )
    said_cols = (*cols[:-1], said)
    sig = int.from_bytes(hashlib.blake2b(repr(said_cols).encode(), digest_size=8).digest(), "big")
    return sig - (1 << 63), cols


def decode(row: sqlite3.Row | tuple[Any, ...], elapsed: int) -> Result:
    """A Result from the columns in RESULT_FIELDS order and the run's elapsed (0.1 ms)."""
    url, final, status, ok, outcome, error, detail, method, attempts, ip = tuple(row)[:10]
    hops, sources, extra = tuple(row)[10:13]
    d: dict[str, Any] = json.loads(extra) if extra else {}
    d.update(
        url=url,
        final_url=final,
        status=status,
        ok=bool(ok),
        outcome=outcome,
        error=error,
        detail=detail or "",
        redirects=[{"url": u, "status": s} for u, s in json.loads(hops)] if hops else [],
        method=method,
        elapsed_ms=elapsed / 10,
        attempts=attempts,
        ip=ip,
        sources=json.loads(sources) if sources else [],
    )
    return Result.from_dict(d)


_INSERT_RESULT: Final = (
    "INSERT INTO results (id, digest, profile, run_id, sig, "
    + ", ".join(RESULT_FIELDS)
    + ", prev) VALUES (?, ?, ?, ?, ?"
    + ", ?" * len(RESULT_FIELDS)
    + ", ?)"
)
_INSERT_CURRENT: Final = (
    "INSERT INTO current (id, profile, digest, result_id, sig, first_run, first_seen, last_run,"
    " last_checked, checked_run, changed_run, streak) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# By rowid: the row was found in this batch's look-up (the index is not searched again).
_CHANGE_CURRENT: Final = (
    "UPDATE current SET result_id = ?, sig = ?, last_run = ?, last_checked = ?,"
    " checked_run = ?, changed_run = ?, streak = ? WHERE id = ?"
)
_TOUCH_CURRENT: Final = (
    "UPDATE current SET last_run = ?, last_checked = ?, checked_run = ?, streak = ? WHERE id = ?"
)
_INSERT_SEEN: Final = (
    "INSERT OR IGNORE INTO seen (run_id, result_id, seq, checked_at, elapsed, cached_from)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def write_batch(
    db: sqlite3.Connection, run_id: int, profile: int, items: Sequence[Item], *, begin: bool = True
) -> None:
    """Store `items` for `run_id` in one transaction (the connection is in autocommit mode;
    with begin=False, in the caller's transaction)."""
    if not items:
        return
    keys = [result_key(item.result) for item in items]
    encode = _said if _FAST else generic_columns
    encoded = [encode(item.result) for item in items]
    if begin:
        db.execute("BEGIN IMMEDIATE")
    try:
        latest = {
            digest: (row_id, result_id, sig, streak)
            for digest, row_id, result_id, sig, streak in db.execute(
                "SELECT digest, id, result_id, sig, streak FROM current"
                " WHERE profile = ? AND digest IN (SELECT value FROM json_each(?))",
                (profile, _dumps(sorted(set(keys)))),
            )
        }
        next_id = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM results").fetchone()[0])
        next_row = int(db.execute("SELECT coalesce(max(id), 0) + 1 FROM current").fetchone()[0])
        new: list[tuple[Any, ...]] = []
        firsts: list[tuple[Any, ...]] = []  # URLs the profile has not seen: in arrival order
        changes: list[tuple[Any, ...]] = []
        touches: list[tuple[Any, ...]] = []
        seen: list[tuple[Any, ...]] = []
        get = latest.get
        for item, digest, (sig, cols) in zip(items, keys, encoded, strict=True):
            result, checked_at, cached_from, seq = item
            old = get(digest)
            if old is None:
                row_id = next_row
                next_row += 1
                streak = 0
                unchanged = False
            else:
                row_id = old[0]
                streak = old[3]
                unchanged = old[2] == sig
            if unchanged:
                result_id = old[1]  # type: ignore[index]  # unchanged implies old
            else:
                result_id = next_id
                next_id += 1
                if _FAST:  # the signature's columns, with the timing put back
                    cols = (*cols[:-1], _extra(result))
                prev = None if old is None else old[1]  # the chain `history` walks
                new.append((result_id, digest, profile, run_id, sig, *cols, prev))
            if cached_from is None:
                checked_run = run_id
                if result.outcome != SKIPPED:
                    streak = 0 if result.ok else streak + 1
            else:
                checked_run = cached_from
            latest[digest] = (row_id, result_id, sig, streak)
            if unchanged:
                touches.append((run_id, checked_at, checked_run, streak, row_id))
            elif old is None:
                firsts.append(
                    (
                        row_id,
                        profile,
                        digest,
                        result_id,
                        sig,
                        run_id,
                        checked_at,
                        run_id,
                        checked_at,
                        checked_run,
                        run_id,
                        streak,
                    )
                )
            else:
                changes.append(
                    (result_id, sig, run_id, checked_at, checked_run, run_id, streak, row_id)
                )
            seen.append(
                (
                    run_id,
                    result_id,
                    seq,
                    round(checked_at * 1000),
                    round(result.elapsed_ms * 10),
                    cached_from,
                )
            )
        if new:
            db.executemany(_INSERT_RESULT, new)
        if firsts:
            db.executemany(_INSERT_CURRENT, firsts)
        # In row order: neighbouring rows share pages, so a commit writes fewer of them.
        changes.sort(key=itemgetter(-1))
        touches.sort(key=itemgetter(-1))
        seen.sort(key=itemgetter(1))
        if changes:
            db.executemany(_CHANGE_CURRENT, changes)
        if touches:
            db.executemany(_TOUCH_CURRENT, touches)
        db.executemany(_INSERT_SEEN, seen)
    except BaseException:
        if begin:
            db.execute("ROLLBACK")
        raise
    if begin:
        db.execute("COMMIT")


def profile_id(db: sqlite3.Connection, key: str) -> int:
    db.execute("INSERT OR IGNORE INTO profiles (key) VALUES (?)", (key,))
    row = db.execute("SELECT id FROM profiles WHERE key = ?", (key,)).fetchone()
    return int(row[0])
