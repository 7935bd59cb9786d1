"""Which files are documents (HTML, Markdown) or sitemaps, and what a directory or glob holds.

Cheap on purpose: the CLI sorts its inputs with it before deciding which (heavier) run to
import and start.
"""

from __future__ import annotations

import glob
import os

from urlsweep.inputs import InputError

DOC_KINDS = {
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".css": "css",  # stylesheets: their url() and @import links
}
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "__pycache__", ".tox"})
_GLOB_CHARS = frozenset("*?[")


def doc_kind(path: str) -> str | None:
    """The document kind of a file name: "html", "markdown", "css", or None."""
    return DOC_KINDS.get(os.path.splitext(path)[1].lower())


def is_glob(arg: str) -> bool:
    return "://" not in arg and any(c in _GLOB_CHARS for c in arg)


def expand(arg: str) -> list[str]:
    """The documents an INPUT names: itself, the documents under a directory, or a glob's."""
    if is_glob(arg):
        found = [
            p for p in sorted(glob.glob(arg, recursive=True)) if os.path.isfile(p) and doc_kind(p)
        ]
        if not found:
            raise InputError(f"{arg}: no HTML or Markdown file matches")
        return found
    if os.path.isdir(arg):
        found = []
        for top, dirs, files in os.walk(arg):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            found.extend(os.path.join(top, f) for f in sorted(files) if doc_kind(f))
        return found
    return [arg]


def is_sitemap_path(path: str) -> bool:
    low = path.lower()
    return low.endswith((".xml", ".xml.gz"))
