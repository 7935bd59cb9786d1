"""Values are checked before any request, a config file found by search is trusted only so
far, and a bug is one line with exit 3: each through the real command and loopback servers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.http import TestHTTPServer
from support.store_helpers import env, log_server, urlsweep


@pytest.fixture(scope="module")
def server() -> Iterator[TestHTTPServer]:
    with log_server() as s:
        yield s


def _refused_before_any_request(
    server: TestHTTPServer, p: subprocess.CompletedProcess[str], *words: str
) -> None:
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("urlsweep: error: "), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    for word in words:
        assert word in p.stderr
    assert not server.requests


def test_a_ca_cert_without_a_certificate_is_refused(tmp_path: Path, server: TestHTTPServer) -> None:
    (tmp_path / "ca.pem").write_text("this is no certificate\n")
    server.clear()
    p = urlsweep("check", "--no-store", "--ca-cert", tmp_path / "ca.pem", server.url("/ok"))
    _refused_before_any_request(server, p, "ca_cert", "holds no PEM certificate")


@pytest.mark.parametrize("proxy", ["http://[bad", "ftp://proxy.example:21", "proxy example"])
def test_a_proxy_libcurl_cannot_use_is_refused(server: TestHTTPServer, proxy: str) -> None:
    server.clear()
    p = urlsweep("check", "--no-store", "--proxy", proxy, server.url("/ok"))
    _refused_before_any_request(server, p, "--proxy", "bad proxy")


def test_a_crawl_of_an_ftp_url_is_a_usage_error(server: TestHTTPServer) -> None:
    server.clear()
    p = urlsweep("crawl", "--no-store", "ftp://127.0.0.1/pub/")
    _refused_before_any_request(server, p, "ftp://127.0.0.1/pub/", "http")


def test_document_options_for_a_url_list_are_named_in_a_warning(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    p = urlsweep(
        "check", "--no-store", "--no-progress", "--root-dir", tmp_path,
        "--base-url", "https://docs.example/", server.url("/ok"),
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "--root-dir applies to local documents" in p.stderr
    assert "--base-url applies to local documents" in p.stderr
    page = tmp_path / "page.html"
    page.write_text(f'<a href="{server.url("/ok")}">x</a>')
    p = urlsweep("check", "--no-store", "--no-progress", "--root-dir", tmp_path, page)
    assert p.returncode == 0, p.stderr
    assert "applies to local documents" not in p.stderr


def _found_config(tmp_path: Path, server: TestHTTPServer, text: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "urlsweep.toml").write_text(text)
    server.clear()
    return project


def test_a_found_config_may_not_weaken_tls_set_a_proxy_or_send_secrets(
    tmp_path: Path, server: TestHTTPServer
) -> None:
    project = _found_config(
        tmp_path,
        server,
        "insecure = true\n"
        'proxy = "http://127.0.0.1:9"\n'
        'header = ["Authorization: Bearer s3cret", "X-Team: docs"]\n'
        '[hosts."127.0.0.1"]\nheaders = {"X-Api-Key" = "k3y"}\n',
    )
    p = urlsweep("check", "--no-store", "--no-progress", server.url("/ok"), cwd=project)
    # The proxy (a closed port) was not used, or the check would have failed.
    assert p.returncode == 0, p.stderr
    for key in ("insecure", "proxy", "header Authorization", "X-Api-Key"):
        assert f"{key} ignored: a config file found in the current directory" in p.stderr, key
    (seen,) = server.requests
    assert seen.headers.get("x-team") == "docs"  # what is not a secret still applies
    assert "authorization" not in seen.headers and "x-api-key" not in seen.headers

    # Trusted (--trust-config, or the file named with --config): every key applies.
    for trust in (["--trust-config"], ["--config", "urlsweep.toml"]):
        server.clear()
        p = urlsweep(
            "check", "--no-store", "--no-progress", "--proxy", "", *trust, server.url("/ok"),
            cwd=project,
        )  # fmt: skip
        assert p.returncode == 0, p.stderr
        assert "ignored" not in p.stderr
        (seen,) = server.requests
        assert seen.headers.get("authorization") == "Bearer s3cret"
        assert seen.headers.get("x-api-key") == "k3y"


@pytest.mark.parametrize(
    ("key", "value"),
    [("output", "../elsewhere.txt"), ("store", "/tmp/urlsweep-found-config.db")],
)
def test_a_found_config_keeps_its_paths_inside_its_directory(
    tmp_path: Path, server: TestHTTPServer, key: str, value: str
) -> None:
    project = _found_config(tmp_path, server, f'{key} = "{value}"\n')
    p = urlsweep("check", "--no-progress", server.url("/ok"), cwd=project)
    _refused_before_any_request(server, p, f"{key}:", "outside the config file's directory")
    assert not (tmp_path / "elsewhere.txt").exists()
    # A symlink inside the directory that leads out is outside too.
    (project / "link").symlink_to(tmp_path)
    (project / "urlsweep.toml").write_text('output = "link/out.txt"\n')
    p = urlsweep("check", "--no-progress", server.url("/ok"), cwd=project)
    _refused_before_any_request(server, p, "output:", "outside")
    # Named with --config, the file is the user's own: its paths go where it says.
    (project / "urlsweep.toml").write_text('output = "../elsewhere.txt"\n')
    p = urlsweep("check", "--no-store", "--config", "urlsweep.toml", server.url("/ok"), cwd=project)
    assert p.returncode == 0, p.stderr
    assert server.url("/ok") in (tmp_path / "elsewhere.txt").read_text()


def test_an_internal_error_is_one_line_and_exit_3(tmp_path: Path) -> None:
    # A bug stands in for the real thing: execute() raising where no one expects it.
    code = (
        "import sys; import urlsweep.cli.main as m\n"
        "def broken(p): raise KeyError('boom')\n"
        "m.execute = broken\n"
        "from urlsweep._entry import main\n"
        "sys.argv = ['urlsweep', *sys.argv[1:]]\n"
        "main()\n"
    )
    args = [sys.executable, "-c", code, "check", "--no-store", "http://127.0.0.1:9/"]
    p = subprocess.run(args, capture_output=True, text=True, env=env(), timeout=60)
    assert p.returncode == 3
    assert p.stderr == (
        "urlsweep: internal error: KeyError: 'boom'; run with -v for the traceback\n"
    )
    p = subprocess.run([*args, "-v"], capture_output=True, text=True, env=env(), timeout=60)
    assert p.returncode == 3
    assert "Traceback (most recent call last)" in p.stderr
    assert p.stderr.endswith("urlsweep: internal error: KeyError: 'boom'\n")
