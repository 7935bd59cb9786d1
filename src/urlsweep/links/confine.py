"""What a local-document check may read: files under the root folder, and nothing else.

Documents come from repositories nobody reviewed (a pull request in CI): a link to
`../../.ssh/id_rsa`, `/etc/passwd` from the root, `file:///etc/shadow`, or a symlink that
leads out of the tree must not make urlsweep open, parse or even stat a file outside. Such a
link would not resolve on the published site either, so it is broken: `outside_root`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Final

ALLOW_FLAG: Final = "--allow-outside-root"


class Root:
    """The folder local documents are confined to, compared both as written (lexically) and
    with symlinks resolved: a path is inside only if both say so."""

    def __init__(self, folder: str) -> None:
        self.lexical = os.path.abspath(folder)
        self.real = os.path.realpath(folder)

    @classmethod
    def of(cls, root_dir: str | None, documents: Sequence[str]) -> Root:
        """--root-dir; without it, the smallest folder that holds the current directory and
        every document given (their paths as written: a symlink does not widen it)."""
        if root_dir is not None:
            return cls(root_dir)
        folders = [os.path.dirname(os.path.abspath(p)) for p in documents]
        return cls(os.path.commonpath([os.getcwd(), *folders]))

    def holds(self, path: str) -> bool:
        """Whether `path` lies under the root, symlinks included. A path outside as written
        is never touched; one inside is resolved (metadata only, nothing is read)."""
        if not _under(os.path.abspath(path), self.lexical):
            return False
        return _under(os.path.realpath(path), self.real)

    def why(self) -> str:
        rel = os.path.relpath(self.lexical)
        shown = self.lexical if rel.startswith("..") else rel
        return (
            f"outside the root folder {shown} (it would not resolve on the published site; "
            f"{ALLOW_FLAG} allows it)"
        )


def _under(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([folder, path]) == folder
    except ValueError:  # another drive
        return False
