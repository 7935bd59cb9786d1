"""The library's keyword options as types mypy checks: `urlsweep.check(urls, **CheckOptions)`.

Each key is a declaration (table.py) whose `library` names the function; the value types
are what `Options.from_kwargs` accepts for it. tests/test_declarations.py keeps the keys and
the declarations equal, so a keyword cannot be declared without being typed, or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from urlsweep.options.values import BasicAuth, HostRule, StatusSet

Headers = Mapping[str, str] | Sequence[tuple[str, str] | str] | str


class CheckOptions(TypedDict, total=False):
    """Keyword options of `urlsweep.check`, `check_documents`, `crawl_site` and
    `urlsweep.dask.check`; each defaults to its declaration (docs/library.md)."""

    workers: int
    timeout: float
    method: str
    max_redirects: int
    accept: str | StatusSet
    insecure: bool
    ca_cert: str | None
    user_agent: str
    headers: Headers
    queue_size: int
    max_per_host: int
    rate_limit: float | None
    read_ahead: int
    retries: int
    backoff: float
    max_retry_wait: float
    include: str | Sequence[str]
    exclude: str | Sequence[str]
    schemes: str | Sequence[str]
    deny_private: bool
    allow_nets: str | Sequence[str]
    basic_auth: str | BasicAuth | Sequence[str | BasicAuth]
    cookies: bool
    proxy: str | None
    system_ca: bool
    hosts: HostRule | Sequence[HostRule]
    max_page_links: int
