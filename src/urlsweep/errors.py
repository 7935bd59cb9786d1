"""Every exception the library raises on purpose, in one place and exported from `urlsweep`.

Each is a one-line message meant for a person: the command line prints it and exits 2
(usage or unreadable input), a library caller can catch the class it cares about.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "OptionError",
    "SourceError",
    "StoreError",
    "UrlsweepError",
]


class UrlsweepError(Exception):
    """The base of every urlsweep error: catch this to catch them all."""


class OptionError(UrlsweepError, ValueError):
    """A bad option value; the message names the option."""


class ConfigError(OptionError):
    """A config file that cannot be used; the message names the file and the key."""


class InputError(UrlsweepError, OSError):
    """An input that cannot be read at all (missing file, directory, permission)."""


class SourceError(UrlsweepError, RuntimeError):
    """A run that cannot go on (say, its cluster went away): reported in one line after the
    results it has, like an unreadable input."""


class StoreError(UrlsweepError):
    """The results store cannot be opened or used as asked."""
