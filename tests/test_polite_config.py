"""The config file and the politeness flags, through the `urlsweep check` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from urlsweep.cli.main import main


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "--no-progress", *args], catch_exceptions=False)


def jsonl(text: str) -> dict[str, dict[str, Any]]:
    return {d["url"]: d for d in map(json.loads, text.splitlines())}


def test_config_file_sets_options_and_command_line_flags_win(
    in_tmp: Path, server_factory: Any
) -> None:
    a, b = server_factory("127.0.0.2"), server_factory("127.0.0.3")
    (in_tmp / "urlsweep.toml").write_text(
        'format = "jsonl"\n'
        "retries = 0\n"
        'fail-on = ["unverifiable"]\n'
        '[hosts."127.0.0.2"]\n'
        'accept = "200-299,403"  # this host answers 403 to robots: fine here only\n'
        'headers = { "X-Team" = "docs" }\n'
    )
    forbidden_a, forbidden_b = a.url("/status/403"), b.url("/status/403")
    p = run(forbidden_a, forbidden_b)
    out = jsonl(p.stdout)
    assert out[forbidden_a]["outcome"] == "ok"  # per-host accept
    assert out[forbidden_b]["outcome"] == "broken"
    assert p.exit_code == 1
    assert all(q.headers.get("x-team") == "docs" for q in a.requests)
    assert not any("x-team" in q.headers for q in b.requests)

    limited = a.url("/status/429")
    assert run(limited).exit_code == 1  # fail-on unverifiable, from the file
    p = run("--format", "json", forbidden_a)  # a flag beats the file
    assert p.exit_code == 0
    assert json.loads(p.stdout)["results"][0]["outcome"] == "ok"
    assert len([q for q in a.requests if q.path == "/status/429"]) == 1  # retries = 0


def test_fail_on_unverifiable(http_server: Any, in_tmp: Path) -> None:
    url = http_server.url("/status/429")
    assert run("--retries", "0", url).exit_code == 0  # unverifiable is not broken...
    assert run("--retries", "0", "--fail-on", "unverifiable", url).exit_code == 1  # ...unless


def test_where_the_config_comes_from(http_server: Any, in_tmp: Path) -> None:
    url = http_server.url("/ok")
    (in_tmp / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert run(url).stdout.startswith("✓")  # no [tool.urlsweep]: defaults (text)
    (in_tmp / "pyproject.toml").write_text("[tool.urlsweep]\nworkrs = 3\n")
    p = run(url)  # an error names the file and its table
    assert p.exit_code == 2 and "pyproject.toml [tool.urlsweep]: unknown key 'workrs'" in p.output
    (in_tmp / "pyproject.toml").write_text('[tool.urlsweep]\nformat = "csv"\n')
    assert run(url).stdout.startswith("url,")
    (in_tmp / "urlsweep.toml").write_text('format = "jsonl"\n')  # beats pyproject.toml
    assert json.loads(run(url).stdout)["status"] == 200
    (in_tmp / "conf").mkdir()
    (in_tmp / "conf" / "other.toml").write_text('format = "jsonl"\noutput = "out.jsonl"\n')
    p = run("--config", "conf/other.toml", url)
    assert p.exit_code == 0 and p.stdout == ""
    # Relative paths in a file are relative to that file.
    assert json.loads((in_tmp / "conf" / "out.jsonl").read_text())["status"] == 200
    assert run("--no-config", url).stdout.startswith("✓")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max-per-host = 0\n", "urlsweep.toml: max-per-host: 0 is not in the range"),
        ("bogus = 1\n", "urlsweep.toml: unknown key 'bogus'"),
        ("max-per-hots = 1\n", "unknown key 'max-per-hots' (did you mean 'max-per-host'?)"),
        ("config = 'x.toml'\n", "urlsweep.toml: unknown key 'config'"),
        ("retries = [1, 2]\n", "urlsweep.toml: retries: want one value"),
        ("include = '('\n", "urlsweep.toml: include: bad regular expression"),
        ("retries = \n", "urlsweep.toml: not valid TOML"),
        ('[hosts."a.example"]\nspeed = 1\n', "hosts.\"a.example\": unknown key 'speed'"),
        ('[hosts."a.example"]\naccept = "ok"\n', 'hosts."a.example": accept: bad status'),
        ('[hosts."a.example"]\nmax_per_host = 0\n', "max_per_host must be at least 1"),
        ('[hosts."a/b"]\n', "bad host pattern"),
    ],
)
def test_config_errors_name_file_and_key(in_tmp: Path, text: str, message: str) -> None:
    (in_tmp / "urlsweep.toml").write_text(text)
    p = run("http://127.0.0.1:9/")
    assert p.exit_code == 2
    lines = p.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("urlsweep: error: ")
    assert message in lines[0]


def test_bad_politeness_flags_are_usage_errors(in_tmp: Path) -> None:
    for args, message in [
        (["--basic-auth", "nopassword"], "basic-auth"),
        (["--allow-net", "10.0.0.0/33"], "bad network"),
        (["--exclude", "["], "bad regular expression"),
        (["--scheme", "ftp"], "ftp"),
        (["--system-ca", "--ca-cert", "urlsweep.toml"], "not both"),
    ]:
        (in_tmp / "urlsweep.toml").write_text("")
        p = run(*args, "http://127.0.0.1:9/")
        assert p.exit_code == 2, args
        assert message in p.output and "Traceback" not in p.output
