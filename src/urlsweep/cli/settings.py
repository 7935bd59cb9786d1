"""A checking command's values sorted by where they go, as their declarations say.

Each value goes to the object of its declaration's target (`Options`, the links' and crawl's
options, the store's, the run's, the watch's), so a flag cannot reach the run as nothing: a
value no target takes is a KeyError here, and tests/test_declarations.py walks them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from urlsweep.cli.config import CONFIG_META, HOSTS_META
from urlsweep.cli.store_cmds import StoreArgs
from urlsweep.options import Options, declared

if TYPE_CHECKING:
    from urlsweep.plan import LinkArgs


@dataclass(frozen=True)
class RunArgs:
    """How a checking command runs and what it shows (the options with target "run")."""

    fmt: str = "text"
    output: str | None = None
    quiet: bool = False
    verbose: int = 0
    no_progress: bool = False
    fail_on: tuple[str, ...] = ()
    processes: int | None = 1
    dask: str | None = None
    partition_size: int = 500
    markdown_limit: int = 65_536


@dataclass(frozen=True)
class Prepared:
    """Everything a checking command hands to its run, each value in its own object."""

    command: str
    inputs: tuple[str, ...]
    options: Options
    links: LinkArgs
    store: StoreArgs
    run: RunArgs
    watch: dict[str, Any] = field(default_factory=dict)


@dataclass
class Settings:
    """A checking command's values, sorted by the declaration's target (where they go)."""

    command: str
    inputs: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    links: dict[str, Any] = field(default_factory=dict)
    crawl: dict[str, Any] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    watch: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, command: str, params: dict[str, Any]) -> Settings:
        settings = cls(command, tuple(params.pop("inputs", ())))
        for name, value in params.items():
            getattr(settings, declared(name).target)[name] = value  # KeyError: undeclared
        return settings

    def store_args(self, ctx: click.Context) -> StoreArgs:
        s = dict(self.store)
        path, no_store = s.pop("store", None), s.pop("no_store", False)
        enabled = not no_store
        if no_store and path is not None:
            # Flags beat the environment, which beats the config file: --store given at a
            # higher level than URLSWEEP_NO_STORE (or no_store in the file) keeps the store.
            enabled = _rank(ctx, "store") > _rank(ctx, "no_store")
        exclude = s.pop("cache_exclude_status", None)
        return StoreArgs(path=path, enabled=enabled, cache_exclude=exclude, **s)

    def prepared(self, ctx: click.Context) -> Prepared:
        """Every value in the object that carries it (OptionError for a bad one)."""
        from urlsweep.links.remap import ignore_patterns
        from urlsweep.plan import LinkArgs

        options = Options(**self.options, hosts=ctx.meta.get(HOSTS_META, ()))
        links = LinkArgs(crawl=dict(self.crawl) if self.command == "crawl" else None, **self.links)
        ignored = ignore_patterns(links.ignore_file)
        if ignored:
            options = options.replace(exclude=(*options.exclude, *ignored))
        return Prepared(
            self.command,
            self.inputs,
            options,
            links,
            self.store_args(ctx),
            RunArgs(**self.run),
            dict(self.watch),
        )


def _rank(ctx: click.Context, name: str) -> int:
    source = ctx.get_parameter_source(name)
    if source in (ParameterSource.COMMANDLINE, ParameterSource.PROMPT):
        return 3
    if source == ParameterSource.ENVIRONMENT:
        return 2
    return 1 if name in ctx.meta.get(CONFIG_META, ()) else 0
