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

from urlsweep.options import HostRule, OptionError, StatusSet, parse_header

CONFIG_NAME: Final = "urlsweep.toml"
_NOT_SETTABLE: Final = frozenset({"config", "no_config", "help", "version"})
_HOST_KEYS: Final = ("max_per_host", "rate_limit", "headers", "accept")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Config:
    path: str
    values: dict[str, Any]
    hosts: tuple[HostRule, ...]
    watch: tuple[Any, ...] = ()  # [[watch]] tables, read by `urlsweep watch` (cli/watch.py)


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
        raise ConfigError(f'{path}: hosts: want tables like [hosts."example.com"]')
    watch = values.pop("watch", [])
    if not isinstance(watch, list):
        raise ConfigError(f"{path}: watch: want [[watch]] tables (pattern, interval)")
    rules = tuple(_host_rule(path, k, v) for k, v in hosts.items())
    return Config(path, values, rules, tuple(watch))


def _table(path: str, *, required: bool) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
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


def _option_names(command: click.Command) -> dict[str, click.Option]:
    names: dict[str, click.Option] = {}
    for p in command.params:
        if isinstance(p, click.Option):
            for opt in (*p.opts, *p.secondary_opts):
                if opt.startswith("--"):
                    names[opt[2:].replace("-", "_")] = p
    return names


def apply(ctx: click.Context, config: Config) -> None:
    """Fill `ctx.params` from `config` for every option not given on the command line.

    Keys that belong to another urlsweep command are ignored, so one file serves them all.
    """
    own = _option_names(ctx.command)
    others: set[str] = set()
    root = ctx.find_root().command
    if isinstance(root, click.Group):
        for cmd in root.commands.values():
            others.update(_option_names(cmd))
    for key, raw in config.values.items():
        name = key.replace("-", "_")
        param = own.get(name)
        if name in _NOT_SETTABLE or (param is None and name not in others):
            known = sorted(n.replace("_", "-") for n in (set(own) | others) - _NOT_SETTABLE)
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{config.path}: unknown key {key!r}{hint}")
        if param is None or param.name is None:
            continue
        source = ctx.get_parameter_source(param.name)
        if source not in (None, ParameterSource.DEFAULT):
            continue  # the command line (or an environment variable) wins
        ctx.params[param.name] = _convert(ctx, config.path, key, param, raw)


def _beside(base: str, value: Any) -> Any:
    text = str(value)
    return value if text == "-" or os.path.isabs(text) else os.path.join(base, text)


def _convert(ctx: click.Context, path: str, key: str, param: click.Option, raw: Any) -> Any:
    if isinstance(raw, dict):
        raise ConfigError(f"{path}: {key}: want a value, not a table")
    if param.multiple and not isinstance(raw, list):
        raw = [raw]
    if not param.multiple and isinstance(raw, list):
        raise ConfigError(f"{path}: {key}: want one value, not a list")
    if isinstance(param.type, click.Path):  # relative to the file, not to where we run
        base = os.path.dirname(os.path.abspath(path))
        raw = [_beside(base, v) for v in raw] if param.multiple else _beside(base, raw)
    try:
        return param.process_value(ctx, raw)
    except click.BadParameter as exc:
        raise ConfigError(f"{path}: {key}: {exc.message}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {key}: bad value {raw!r} ({exc})") from None
