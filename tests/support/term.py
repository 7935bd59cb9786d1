"""A real pseudo-terminal for CLI runs, and a small screen model to read what it showed.

`Pty` runs a command with stdin, stdout and stderr on one pseudo-terminal of a fixed size
(80x24 by default) and keeps every byte it wrote. `Screen` replays those bytes the way a
VT100-style terminal would for the sequences rich writes (cursor moves, line erase, colours,
wrap at the right margin) and keeps every line ever shown, scrolled off or not.
"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import termios
import threading
from collections.abc import Sequence

_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z@])")
_OSC = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class Screen:
    """Every line a terminal `width` wide showed, in order (scrollback included)."""

    def __init__(self, width: int = 80) -> None:
        self.width = width
        self.lines: list[list[str]] = [[]]
        self.row = 0
        self.col = 0
        self.pending_wrap = False
        self.unknown: list[str] = []  # sequences this model does not know (a test may assert)

    def _put(self, ch: str) -> None:
        if self.pending_wrap:
            self.pending_wrap = False
            self._newline()
            self.col = 0
        line = self.lines[self.row]
        while len(line) < self.col:
            line.append(" ")
        if self.col < len(line):
            line[self.col] = ch
        else:
            line.append(ch)
        if self.col == self.width - 1:
            self.pending_wrap = True
        else:
            self.col += 1

    def _newline(self) -> None:
        self.row += 1
        if self.row == len(self.lines):
            self.lines.append([])

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "\x1b":
                m = _CSI.match(text, i)
                if m:
                    self._csi(m.group(1), m.group(2))
                    i = m.end()
                    continue
                m = _OSC.match(text, i)
                if m:
                    self.unknown.append(m.group())
                    i = m.end()
                    continue
                self.unknown.append(text[i : i + 2])
                i += 2
                continue
            if ch == "\r":
                self.col, self.pending_wrap = 0, False
            elif ch == "\n":
                self.pending_wrap = False
                self._newline()
            elif ch == "\b":
                self.col = max(0, self.col - 1)
            elif ch == "\x07":
                self.unknown.append(ch)
            elif ch >= " ":
                self._put(ch)
            i += 1

    def _csi(self, params: str, final: str) -> None:
        n = int(params) if params.isdigit() else 1
        if final == "m" or params.startswith("?"):
            return  # colours, cursor shown or hidden
        self.pending_wrap = False
        if final == "A":
            self.row = max(0, self.row - n)
        elif final == "B":
            for _ in range(n):
                self._newline()
        elif final == "C":
            self.col = min(self.width - 1, self.col + n)
        elif final == "D":
            self.col = max(0, self.col - n)
        elif final == "G":
            self.col = min(self.width - 1, n - 1)
        elif final == "K":
            line = self.lines[self.row]
            if params in ("", "0"):
                del line[self.col :]
            elif params == "2":
                line.clear()
            else:
                del line[: self.col]
        else:
            self.unknown.append(f"CSI {params}{final}")

    def text(self) -> list[str]:
        return ["".join(line).rstrip() for line in self.lines]


class Pty:
    """Run `argv` on a pseudo-terminal `columns` x `rows`; stdin, stdout, stderr all on it."""

    def __init__(self, columns: int = 80, rows: int = 24) -> None:
        self.columns = columns
        self.master, self.slave = os.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.data = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the last writer has gone
                return
            if not chunk:
                return
            self.data += chunk

    def run(self, argv: Sequence[str], env: dict[str, str], timeout: float = 60) -> int:
        env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
        env["TERM"] = "xterm-256color"
        proc = subprocess.Popen(
            list(argv), stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env
        )
        os.close(self.slave)
        self._reader.start()
        try:
            code = proc.wait(timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self._reader.join(10)
        os.close(self.master)
        return code

    def output(self) -> str:
        return bytes(self.data).decode("utf-8", "replace")

    def screen(self) -> Screen:
        screen = Screen(self.columns)
        screen.feed(self.output())
        return screen
