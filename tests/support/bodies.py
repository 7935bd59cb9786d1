"""Response bodies that would hurt a checker that downloads them (a gzip bomb).

Everything binds to 127.0.0.0/8 or ::1 on port 0: tests never send traffic elsewhere.
"""

from __future__ import annotations

import struct
import threading
import zlib

_GZIP_BOMB_SIZE = 1 << 30  # decompressed size: 1 GiB
_GZIP_BOMB_BLOCK = 1 << 20
_gzip_bomb_lock = threading.Lock()
_gzip_bomb: bytes | None = None


def _zeros_crc32(total: int, block: int) -> int:
    """CRC-32 of ``total`` zero bytes, ``total`` being a multiple of ``block``.

    ``s -> crc32(zeros(block), s)`` is affine over GF(2); compose it by squaring instead of
    hashing a whole gibibyte.
    """
    zeros = bytes(block)
    const = zlib.crc32(zeros, 0)
    cols = [zlib.crc32(zeros, 1 << i) ^ const for i in range(32)]

    def apply(cols: list[int], const: int, state: int) -> int:
        out = const
        for i in range(32):
            if state >> i & 1:
                out ^= cols[i]
        return out

    result = 0
    n = total // block
    while n:
        if n & 1:
            result = apply(cols, const, result)
        cols, const = [apply(cols, 0, c) for c in cols], apply(cols, const, const)
        n >>= 1
    return result


def gzip_bomb() -> bytes:
    """A valid gzip stream (~1 MB) that decompresses to 1 GiB of zeros (built once, cached)."""
    global _gzip_bomb
    with _gzip_bomb_lock:
        if _gzip_bomb is None:
            zeros = bytes(_GZIP_BOMB_BLOCK)
            comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
            # After Z_FULL_FLUSH the compressor state is reset, so every further block of
            # zeros compresses to exactly the same bytes: build one, repeat it.
            first = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            block = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)
            assert first == block, "zlib full-flush output is not block-periodic"
            tail = comp.flush(zlib.Z_FINISH)
            count = _GZIP_BOMB_SIZE // _GZIP_BOMB_BLOCK
            crc = _zeros_crc32(_GZIP_BOMB_SIZE, _GZIP_BOMB_BLOCK)
            header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            trailer = struct.pack("<II", crc, _GZIP_BOMB_SIZE & 0xFFFFFFFF)
            _gzip_bomb = header + block * count + tail + trailer
        return _gzip_bomb
