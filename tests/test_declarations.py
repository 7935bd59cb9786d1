"""Every declared option reaches where it acts: from its flag, from a config file and from the
library keyword. A new option that is declared but not wired (or wired but not declared)
fails here by name, so no option can be silently dropped again."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from urlsweep.cli import main as cli_main
from urlsweep.links.scope import _COMMAND_NAMES, CrawlOptions
from urlsweep.options import DECLARATIONS, Decl, Options
from urlsweep.plan import LinkArgs

_WALKED = [
    d for d in DECLARATIONS if d.cli and d.target != "cli" and {"check", "crawl"} & d.commands
]


def _toml(value: Any) -> str:
    return json.dumps(value)  # TOML and JSON agree on strings, numbers, booleans and lists


def sample(decl: Decl, base: Path | None) -> tuple[list[str], str, Any]:
    """(flag arguments, config line, expected value) of a non-default value of `decl`."""
    if decl.kind == "bool":
        return [decl.long], f"{decl.key} = true", not decl.default
    if decl.kind == "count":
        return [decl.long, decl.long], f"{decl.key} = 2", 2
    assert decl.example is not None, f"{decl.name}: declare an example value"
    text = decl.example
    if decl.kind in ("int", "float"):
        number = int(text) if decl.kind == "int" else float(text)
        return [decl.long, text], f"{decl.key} = {_toml(number)}", number
    if decl.kind in ("path", "dir") and base is not None:
        expected: Any = str(base / text)
    else:
        expected = decl.from_text(text)
    if decl.multiple:
        return [decl.long, text], f"{decl.key} = {_toml([text])}", (expected,)
    return [decl.long, text], f"{decl.key} = {_toml(text)}", expected


def landed(p: cli_main.Prepared, decl: Decl) -> Any:
    """Where `decl`'s value ends up in what a command hands to the run."""
    if decl.target == "options":
        return getattr(p.options, decl.name)
    if decl.target == "links":
        return getattr(p.links, decl.name)
    if decl.target == "crawl":
        assert p.links.crawl is not None
        crawl = CrawlOptions.from_command(p.links.crawl, p.links.check_fragments)
        derived = {
            "ignore_robots": not crawl.robots,
            "no_sitemap": not crawl.sitemap,
            "unbounded": crawl.depth is None and crawl.max_pages is None,
        }
        return derived[decl.name] if decl.name in derived else getattr(crawl, decl.name)
    if decl.target == "store":
        store = {
            "store": p.store.path,
            "no_store": not p.store.enabled,
            "cache_exclude_status": p.store.cache_exclude,
        }
        return store[decl.name] if decl.name in store else getattr(p.store, decl.name)
    return getattr(p.run, decl.name)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("URLSWEEP_STORE", "URLSWEEP_NO_STORE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "ca.pem").write_text(
        "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
    )
    (tmp_path / "site").mkdir()
    (tmp_path / "ignore.txt").write_text("^https://ignored[.]example/\n")
    return tmp_path


def prepared(args: list[str], monkeypatch: pytest.MonkeyPatch) -> cli_main.Prepared:
    seen: list[cli_main.Prepared] = []
    monkeypatch.setattr(cli_main, "execute", seen.append)
    p = CliRunner().invoke(cli_main.main, args, catch_exceptions=False)
    assert p.exit_code == 0, p.output
    assert len(seen) == 1
    return seen[0]


def _command(decl: Decl) -> str:
    return "check" if "check" in decl.commands else "crawl"


@pytest.mark.parametrize("decl", _WALKED, ids=lambda d: d.name)
def test_every_option_arrives_from_its_flag(
    decl: Decl, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, _, expected = sample(decl, None)
    command = _command(decl)
    p = prepared([command, "--no-config", *args, "http://127.0.0.1:9/"], monkeypatch)
    assert landed(p, decl) == expected
    assert landed(p, decl) != landed(prepared([command, "--no-config", "x:/"], monkeypatch), decl)


@pytest.mark.parametrize("decl", [d for d in _WALKED if d.config], ids=lambda d: d.name)
def test_every_option_arrives_from_the_config_file(
    decl: Decl, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, line, expected = sample(decl, project)
    (project / "ci.toml").write_text(line + "\n")
    p = prepared([_command(decl), "--config", "ci.toml", "http://127.0.0.1:9/"], monkeypatch)
    assert landed(p, decl) == expected


def test_every_options_field_is_declared_and_every_target_takes_its_declarations() -> None:

    by_target: dict[str, set[str]] = {}
    for d in DECLARATIONS:
        by_target.setdefault(d.target, set()).add(d.name)
    assert {f.name for f in dataclasses.fields(Options)} == by_target["options"]
    assert by_target["links"] <= {f.name for f in dataclasses.fields(LinkArgs)}
    assert by_target["crawl"] == _COMMAND_NAMES
    assert by_target["run"] - {"compare_id", "limit", "keep_runs", "older_than"} == {
        f.name for f in dataclasses.fields(cli_main.RunArgs)
    }


def test_a_config_key_is_strictly_typed_and_named(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for line, message in [
        ('insecure = "yes"', "insecure: want true or false, not 'yes'"),
        ("retries = 1.7", "retries: want a whole number, not 1.7"),
        ("workers = 0", "workers: 0 is not in the range 1 to 10000"),
        ('scheme = ["ftp"]', "scheme: 'ftp' is not one of http, https"),
    ]:
        (project / "urlsweep.toml").write_text(line + "\n")
        p = CliRunner().invoke(cli_main.main, ["check", "http://127.0.0.1:9/"])
        assert p.exit_code == 2
        assert (
            p.output.strip() == f"urlsweep: error: {os.path.join('.', 'urlsweep.toml')}: {message}"
        )


def test_the_result_profile_is_what_the_declarations_say() -> None:
    from urlsweep.options import profile_names
    from urlsweep.store.keys import RESULT_OPTIONS

    assert set(profile_names()) == set(RESULT_OPTIONS)


def test_library_keywords_are_typed_and_are_the_declared_ones() -> None:
    import typing

    from urlsweep.options.keywords import CheckOptions

    hints = typing.get_type_hints(CheckOptions)
    assert set(hints) == {d.name for d in DECLARATIONS if "check" in d.library}
    simple = {"int": int, "float": float, "bool": bool}
    for d in DECLARATIONS:
        if d.name in hints and d.kind in simple and not d.multiple:
            allowed = set(typing.get_args(hints[d.name])) or {hints[d.name]}
            assert simple[d.kind] in allowed, d.name


def test_a_string_for_a_url_list_and_a_wrong_type_are_named_errors() -> None:
    import urlsweep

    with pytest.raises(TypeError, match=r"not one str: check\(\['http://127.0.0.1:9/'\]\)"):
        urlsweep.check("http://127.0.0.1:9/")
    with pytest.raises(urlsweep.OptionError, match=r"^workers: want a whole number, not '8'$"):
        urlsweep.check(["http://127.0.0.1:9/"], workers="8")  # type: ignore[arg-type]
    with pytest.raises(urlsweep.OptionError, match=r"^insecure: want True or False, not 1$"):
        urlsweep.check(["http://127.0.0.1:9/"], insecure=1)  # type: ignore[arg-type]
    with pytest.raises(urlsweep.OptionError, match=r"^timeout: 0.0 is not in the range"):
        urlsweep.check(["http://127.0.0.1:9/"], timeout=0)


def test_outcomes_and_errors_are_literal_types_equal_to_their_names() -> None:
    import typing

    from urlsweep import result

    assert typing.get_args(result.Outcome) == result.OUTCOMES
    assert typing.get_args(result.ErrorName) == result.ERRORS


def test_every_library_error_is_exported_and_one_family() -> None:
    import urlsweep
    from urlsweep import errors

    for name in errors.__all__:
        assert getattr(urlsweep, name) is getattr(errors, name)
        assert issubclass(getattr(errors, name), errors.UrlsweepError)


def test_the_library_reference_page_is_generated_from_the_code() -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    tool = root / "tools" / "library_reference.py"
    p = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    page = (root / "docs" / "library.md").read_text()
    for d in DECLARATIONS:
        if "check" in d.library:
            assert f"| `{d.name}` |" in page


def _library_functions() -> dict[str, Any]:
    import urlsweep
    from urlsweep.scale import dask as udask

    return {
        "check": urlsweep.check,
        "check_documents": urlsweep.check_documents,
        "crawl_site": urlsweep.crawl_site,
        "dask.check": udask.check,
    }


def test_every_library_function_takes_exactly_its_declared_keywords() -> None:
    import inspect
    import typing

    from urlsweep.options.keywords import CheckOptions

    shared = set(typing.get_type_hints(CheckOptions))
    for name, fn in _library_functions().items():
        params = inspect.signature(fn).parameters
        own = {p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
        takes_all = any(v.kind is inspect.Parameter.VAR_KEYWORD for v in params.values())
        declared = {d.name for d in DECLARATIONS if name in d.library}
        assert takes_all, f"{name} takes the options of urlsweep.check"
        assert declared - shared <= own, f"{name} lacks {sorted(declared - shared - own)}"
        assert shared <= declared, f"{name}: {sorted(shared - declared)} not declared for it"


@pytest.mark.parametrize(
    "decl", [d for d in DECLARATIONS if d.target == "options" and d.library], ids=lambda d: d.name
)
def test_every_library_keyword_arrives_in_the_options(decl: Decl, project: Path) -> None:
    """The keyword of `urlsweep.check(...)` sets the same field the flag and the key set."""
    if decl.name == "hosts":  # config tables only: no flag, so no sample text
        from urlsweep.options import HostRule

        expected: Any = (HostRule("docs.example", max_per_host=2),)
    else:
        _, _, expected = sample(decl, None)
    value = list(expected) if decl.multiple or decl.name == "hosts" else expected
    got = getattr(Options.from_kwargs(**{decl.name: value}), decl.name)
    assert got == expected
    assert got != getattr(Options(), decl.name)


def test_every_flag_is_documented_and_in_its_commands_help() -> None:
    """`urlsweep --help` and the docs agree: each declared flag is in the help of every
    command it belongs to and written (in backquotes) in README.md or docs/*.md."""
    root = Path(__file__).parent.parent
    docs = (root / "README.md").read_text() + "".join(
        p.read_text() for p in sorted((root / "docs").glob("*.md"))
    )
    runner = CliRunner()
    helps: dict[str, str] = {}
    undocumented = []
    for d in DECLARATIONS:
        if not d.cli:
            continue
        for command in sorted(d.commands):
            if command not in helps:
                res = runner.invoke(cli_main.main, [command, "--help"], terminal_width=200)
                assert res.exit_code == 0, res.output
                helps[command] = res.output
            assert d.long in helps[command], (d.long, command)
        if not re.search(r"`[^`\n]*" + re.escape(d.long) + r"(?![\w-])[^`\n]*`", docs):
            undocumented.append(d.long)
    assert undocumented == []
