"""A real urlsweep.toml through the real command: every command reads it alike, paths in it
are the file's, values are strictly typed, and flags beat the environment beat the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.http import TestHTTPServer
from support.store_helpers import log_server, urlsweep


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


def test_store_in_the_config_file_serves_every_command_relative_to_the_file(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "urlsweep.toml").write_text('store = "state/links.db"\nretries = 0\n')
    url = f"{server.base_url}/ok"
    p = urlsweep("check", "--no-progress", url, cwd=project)
    assert p.returncode == 0, p.stderr
    assert (project / "state" / "links.db").is_file()

    # From a subdirectory the file is named with --config; its path is still the file's.
    sub = project / "docs"
    conf = ["--config", "../urlsweep.toml"]
    p = urlsweep("check", "--no-progress", *conf, url, cwd=sub)
    assert p.returncode == 0, p.stderr
    assert not (sub / "state").exists()
    runs = urlsweep("runs", "-f", "json", *conf, cwd=sub)
    assert runs.returncode == 0, runs.stderr
    assert [r["id"] for r in json.loads(runs.stdout)] == [2, 1]
    report = urlsweep("report", "-f", "json", cwd=project)
    assert report.returncode == 0, report.stderr
    assert [r["url"] for r in json.loads(report.stdout)["results"]] == [url]
    history = urlsweep("history", "-f", "json", url, *conf, cwd=sub)
    assert history.returncode == 0, history.stderr
    assert [h["run"] for h in json.loads(history.stdout)] == [2, 1]
    # --no-config: the default store, which has nothing.
    bare = urlsweep("runs", "--no-config", cwd=project)
    assert bare.returncode == 2 and "store" in bare.stderr


def test_flags_beat_the_environment_which_beats_the_file(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    (tmp_path / "urlsweep.toml").write_text('store = "from-file.db"\nformat = "jsonl"\n')
    url = f"{server.base_url}/ok"
    env = {"URLSWEEP_NO_STORE": "1"}
    p = urlsweep("check", "--no-progress", "--store", "flag.db", url, cwd=tmp_path, env_extra=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "flag.db").is_file()  # the flag beats URLSWEEP_NO_STORE
    assert json.loads(p.stdout)["url"] == url  # the file's format still applies
    p = urlsweep("check", "--no-progress", url, cwd=tmp_path, env_extra=env)
    assert p.returncode == 0, p.stderr
    assert not (tmp_path / "from-file.db").exists()  # the environment beats the file
    env = {"URLSWEEP_STORE": str(tmp_path / "from-env.db")}
    p = urlsweep("check", "--no-progress", url, cwd=tmp_path, env_extra=env)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "from-env.db").is_file() and not (tmp_path / "from-file.db").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('insecure = "yes"\n', "./urlsweep.toml: insecure: want true or false, not 'yes'"),
        ("retries = 1.7\n", "./urlsweep.toml: retries: want a whole number, not 1.7"),
        ("retries = 1\nretries = 2\n", "./urlsweep.toml: not valid TOML"),
        ("max-redirect = 3\n", "unknown key 'max-redirect' (did you mean 'max-redirects'?)"),
        ('[hosts."a.example"]\nrate_limit = "fast"\n', "rate_limit: want a number"),
    ],
)
def test_a_bad_config_value_is_one_line_naming_file_and_key_before_any_request(
    tmp_path: Path, server: TestHTTPServer, text: str, message: str
) -> None:
    (tmp_path / "urlsweep.toml").write_text(text)
    server.clear()
    p = urlsweep("check", "--no-progress", f"{server.base_url}/ok", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.startswith("urlsweep: error: ") and message in p.stderr
    assert len(p.stderr.splitlines()) == 1
    assert not server.requests


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "urlsweep.toml").write_bytes(b'user-agent = "caf\xe9"\n')
    p = urlsweep("runs", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip() == "urlsweep: error: ./urlsweep.toml: not UTF-8 text"
