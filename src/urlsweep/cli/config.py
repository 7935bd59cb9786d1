"""Settings from a file: `--config FILE`, else ./urlsweep.toml, else [tool.urlsweep] in
./pyproject.toml. Keys are the long option names; flags given on the command line win.

Part of the CLI layer (it knows click's options), so a project can keep its checker settings
next to its code and every run agrees.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass
from typing import Any, Final

import click
from click.core import ParameterSource

from urlsweep.errors import ConfigError, OptionError
from urlsweep.options import HostRule, StatusSet, parse_header
from urlsweep.options.table import BY_KEY

CONFIG_NAME: Final = "urlsweep.toml"
_HOST_KEYS: Final = ("max_per_host", "rate_limit", "headers", "accept")


@dataclass(frozen=True, slots=True)
class Config:
    path: str
    values: dict[str, Any]
    hosts: tuple[HostRule, ...]
    watch: tuple[Any, ...] = ()  # [[watch]] tables, read by `urlsweep watch` (cli/watch.py)

    @property
    def where(self) -> str:
        """What messages name: the file, and the table when it is pyproject.toml's."""
        return _where(self.path)


def _where(path: str) -> str:
    return f"{path} [tool.urlsweep]" if os.path.basename(path) == "pyproject.toml" else path


def discover(explicit: str | None, cwd: str = ".") -> str | None:
    """The config file to use, or None."""
    if explicit is not None:
        return explicit
    own = os.path.join(cwd, CONFIG_NAME)
    if os.path.isfile(own):
        return own
    pyproject = os.path.join(cwd, "pyproject.toml")
    if os.path.isfile(pyproject) and _table(pyproject, required=False) is not None:
        return pyproject
    return None


def load(path: str) -> Config:
    table = _table(path, required=True) or {}
    values = dict(table)
    hosts = values.pop("hosts", {})
    if not isinstance(hosts, dict):
        raise ConfigError(f'{_where(path)}: hosts: want tables like [hosts."example.com"]')
    watch = values.pop("watch", [])
    if not isinstance(watch, list):
        raise ConfigError(f"{_where(path)}: watch: want [[watch]] tables (pattern, interval)")
    rules = tuple(_host_rule(path, k, v) for k, v in hosts.items())
    return Config(path, values, rules, tuple(watch))


def _table(path: str, *, required: bool) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    if os.path.basename(path) != "pyproject.toml":
        return data
    table = data.get("tool", {}).get("urlsweep")
    if table is None and required:
        raise ConfigError(f"{path}: no [tool.urlsweep] table")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.urlsweep must be a table")
    return table


def _host_rule(path: str, pattern: str, table: Any) -> HostRule:
    where = f'{path}: hosts."{pattern}"'
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: want a table of {', '.join(_HOST_KEYS)}")
    fields: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in _HOST_KEYS:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(_HOST_KEYS)})")
        try:
            fields[name] = _host_value(name, value)
        except (OptionError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {key}: {exc}") from None
    try:
        return HostRule(pattern, **fields)
    except OptionError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _host_value(name: str, value: Any) -> Any:
    if name == "max_per_host":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("want a whole number")
        return value
    if name == "rate_limit":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("want a number of requests per second")
        return float(value)
    if name == "accept":
        spec = ",".join(str(v) for v in value) if isinstance(value, list) else value
        if not isinstance(spec, str | int):
            raise ValueError("want statuses like '200-299,403'")
        return StatusSet.parse(str(spec))
    if isinstance(value, dict):  # headers
        return tuple((str(k), str(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(parse_header(str(h)) for h in value)
    raise ValueError("want a table {Name = 'value'} or a list of 'Name: value'")


def apply(ctx: click.Context, config: Config, command: str, *, trusted: bool = True) -> set[str]:
    """Fill `ctx.params` from `config` for every option not given as a flag or environment
    variable; returns the names set. Every value is checked, also those of keys that belong
    to another urlsweep command (ignored here, so one file serves them all).

    An untrusted config (found by search, not named) may not weaken TLS, set a proxy or send
    secrets, and its paths stay inside its own directory (docs/security.md)."""
    base = os.path.dirname(os.path.abspath(config.path))
    applied: set[str] = set()
    for key, raw in config.values.items():
        decl = BY_KEY.get(key.replace("-", "_"))
        if decl is None:
            known = sorted(d.key for d in BY_KEY.values())
            close = difflib.get_close_matches(key.replace("_", "-"), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{config.where}: unknown key {key!r}{hint}")
        try:
            value = decl.from_config(raw, base)
        except OptionError as exc:
            message = str(exc).removeprefix(f"{decl.name}: ")
            raise ConfigError(f"{config.where}: {key}: {message}") from None
        if not trusted:
            if decl.trust:
                _untrusted(config.where, key)
                continue
            if decl.name == "headers":
                value = _public_headers(config.where, key, value)
            if decl.kind in ("path", "dir"):
                for path in value if decl.multiple else (value,):
                    _inside(config.where, key, base, path)
        if command not in decl.commands or decl.name not in ctx.params:
            continue
        source = ctx.get_parameter_source(decl.name)
        if source not in (None, ParameterSource.DEFAULT):
            continue  # a flag or an environment variable wins
        ctx.params[decl.name] = value
        applied.add(decl.name)
    return applied


_TRUST_HINT: Final = "name the file with --config FILE, or give --trust-config"


def _untrusted(path: str, key: str) -> None:
    from urlsweep.cli.common import warn

    warn(
        f"urlsweep: warning: {path}: {key} ignored: a config file found in the current "
        f"directory may not set it ({_TRUST_HINT})"
    )


def _public_headers(path: str, key: str, headers: Any) -> tuple[tuple[str, str], ...]:
    from urlsweep.options import is_secret_header

    kept = []
    for name, value in headers:
        if is_secret_header(name):
            _untrusted(path, f"{key} {name}")
        else:
            kept.append((name, value))
    return tuple(kept)


def _inside(path: str, key: str, base: str, value: Any) -> None:
    if value is None or value == "-":
        return
    real, root = os.path.realpath(str(value)), os.path.realpath(base)
    if os.path.commonpath([real, root]) != root:
        raise ConfigError(
            f"{path}: {key}: {value!r} is outside the config file's directory; a config file "
            f"found in the current directory keeps its paths inside it ({_TRUST_HINT})"
        )


HOSTS_META: Final = "urlsweep.hosts"
WATCH_META: Final = "urlsweep.watch"  # (config path, its [[watch]] tables), for `watch`
CONFIG_META: Final = "urlsweep.config_keys"


def read_config(ctx: click.Context) -> None:
    """Take --config/--no-config/--trust-config out of `ctx.params` and apply the file."""
    from urlsweep.cli.common import fail

    explicit = ctx.params.pop("config", None)
    no_config = ctx.params.pop("no_config", False)
    trusted = bool(ctx.params.pop("trust_config", False)) or explicit is not None
    if explicit and no_config:
        fail("give --config FILE or --no-config, not both")
    command = ctx.info_name or ctx.command.name or ""
    try:
        path = None if no_config else discover(explicit)
        if path is not None:
            conf = load(path)
            ctx.meta[CONFIG_META] = apply(ctx, conf, command, trusted=trusted)
            ctx.meta[HOSTS_META] = conf.hosts if trusted else _public_hosts(path, conf.hosts)
            ctx.meta[WATCH_META] = (path, conf.watch)
    except ConfigError as exc:
        fail(str(exc))


def _public_hosts(path: str, hosts: tuple[HostRule, ...]) -> tuple[HostRule, ...]:
    import dataclasses

    return tuple(
        dataclasses.replace(
            rule, headers=_public_headers(path, f'hosts."{rule.pattern}".headers', rule.headers)
        )
        for rule in hosts
    )


class ConfigCommand(click.Command):
    """A command whose options may also come from a config file.

    Applied after parsing, so `ctx.get_parameter_source` tells which flags the user gave:
    those win over the file.
    """

    def invoke(self, ctx: click.Context) -> Any:
        read_config(ctx)
        return super().invoke(ctx)


def with_config(command: click.Command) -> click.Command:
    """`command` (defined elsewhere with plain click) reading the config file too."""
    from urlsweep.cli.flags import click_option
    from urlsweep.options import declared

    name = command.name or ""
    command.params.extend(
        click_option(declared(n), name) for n in ("config", "no_config", "trust_config")
    )
    inner = command.callback
    assert inner is not None

    def callback(**params: Any) -> Any:
        ctx = click.get_current_context()
        read_config(ctx)
        return inner(**ctx.params)

    command.callback = callback
    return command
