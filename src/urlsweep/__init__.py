"""urlsweep: a fast, threaded web status checker.

    >>> import urlsweep
    >>> for result in urlsweep.check(["https://example.com/"], timeout=5):  # doctest: +SKIP
    ...     print(result.url, result.status, result.ok)

Heavy modules are imported on first use, so `urlsweep --version` stays fast.
"""

from __future__ import annotations

from urlsweep._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs the --version start-up ~10 ms
if TYPE_CHECKING:
    from typing import Any

    from urlsweep.engine.pipeline import Engine, check, check_url_status
    from urlsweep.errors import (
        ConfigError,
        InputError,
        OptionError,
        SourceError,
        StoreError,
        UrlsweepError,
    )
    from urlsweep.inputs import Target
    from urlsweep.links.crawl import crawl_site
    from urlsweep.links.documents import check_documents
    from urlsweep.options import HostRule, Options, StatusSet
    from urlsweep.result import Hop, Result

__all__ = [
    "ConfigError",
    "Engine",
    "Hop",
    "HostRule",
    "InputError",
    "OptionError",
    "Options",
    "Result",
    "SourceError",
    "StatusSet",
    "StoreError",
    "Target",
    "UrlsweepError",
    "__version__",
    "check",
    "check_documents",
    "check_url_status",
    "crawl_site",
]

_LAZY = {
    "Engine": "engine.pipeline",
    "check": "engine.pipeline",
    "check_url_status": "engine.pipeline",
    "check_documents": "links.documents",
    "crawl_site": "links.crawl",
    "Target": "inputs",
    "ConfigError": "errors",
    "InputError": "errors",
    "OptionError": "errors",
    "SourceError": "errors",
    "StoreError": "errors",
    "UrlsweepError": "errors",
    "HostRule": "options",
    "Options": "options",
    "StatusSet": "options",
    "Hop": "result",
    "Result": "result",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'urlsweep' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
