"""docs/security.md, where credentials go: only to the hosts the user named.

Every source of links (a crawl, its own sitemap seeding, a sitemap, --extract, local
documents) is tried against loopback servers on different 127.x addresses that log the
headers they receive.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import urlsweep
from support.sites import Site, html, page, sitemap
from urlsweep.options import SECRET_HEADERS, is_secret_header

SECRETS = {
    "Authorization": "Bearer s3cret",
    "Cookie": "sid=s3cret",
    "Proxy-Authorization": "Basic s3cret",
    "X-Api-Key": "s3cret",
    "Private-Token": "s3cret",
    "X-Goog-Api-Key": "s3cret",  # no list names it: its name says what it is
}
HEADERS = {**SECRETS, "X-Trace": "visible"}
HEADER_ARGS = [arg for k, v in HEADERS.items() for arg in ("-H", f"{k}: {v}")]


@pytest.fixture
def hosts() -> Iterator[tuple[Site, Site, Site]]:
    """named (127.0.0.2), foreign (127.0.0.3), followed (127.0.0.4)."""
    made = [Site("127.0.0.2"), Site("127.0.0.3"), Site("127.0.0.4")]
    try:
        yield made[0], made[1], made[2]
    finally:
        for s in made:
            s.close()


def received(site: Site) -> list[dict[str, str]]:
    site.server.wait_idle()
    with site.server.lock:
        return [dict(r.headers) for r in site.server.requests]


def assert_has_secrets(site: Site) -> None:
    got = received(site)
    assert got, "the named host was asked"
    for headers in got:
        for name, value in SECRETS.items():
            assert headers.get(name.lower()) == value, (name, headers)


def assert_no_secrets(site: Site) -> None:
    got = received(site)
    assert got, "the foreign host was checked"
    for headers in got:
        leaked = [k for k in headers if k.title() in SECRETS or is_secret_header(k)]
        assert not leaked, leaked
        assert headers.get("x-trace") == "visible"  # ordinary headers still go everywhere


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "urlsweep", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


def test_one_list_of_secret_headers() -> None:
    for name in SECRET_HEADERS:
        assert is_secret_header(name) and is_secret_header(name.upper())
    for name in ("X-Auth-Token", "X-CSRF-Token", "Session-Id", "X-Secret", "Api-Key"):
        assert is_secret_header(name)
    for name in ("X-Trace", "Accept", "User-Agent", "Accept-Language", "If-None-Match"):
        assert not is_secret_header(name)


def test_a_crawl_sends_credentials_to_start_and_followed_hosts_only(
    hosts: tuple[Site, Site, Site],
) -> None:
    named, foreign, followed = hosts
    named.routes["/"] = html(page(f"{foreign.base}/ext", f"{followed.base}/f.html", "/in"))
    named.routes["/in"] = html(page())
    foreign.routes["/ext"] = html(page())
    followed.routes["/f.html"] = html(page(f"{foreign.base}/from-followed"))
    foreign.routes["/from-followed"] = html(page())
    follow = f"127.0.0.4:{followed.server.port}"
    results = list(
        urlsweep.crawl_site(
            named.base + "/", follow_hosts=[follow], sitemap=False, headers=HEADERS, timeout=10
        )
    )
    assert sum(r.ok for r in results) == 5
    assert_has_secrets(named)
    assert_has_secrets(followed)
    assert_no_secrets(foreign)


def test_a_crawls_sitemap_seeding_sends_no_credentials_to_listed_hosts(
    hosts: tuple[Site, Site, Site],
) -> None:
    named, foreign, _ = hosts
    named.routes["/"] = html(page())
    named.routes["/sitemap.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        sitemap(f"{foreign.base}/listed"),
    )
    foreign.routes["/listed"] = html(page())
    results = list(urlsweep.crawl_site(named.base + "/", headers=HEADERS, timeout=10))
    assert {r.url for r in results if r.ok} >= {f"{foreign.base}/listed"}
    assert_has_secrets(named)
    assert_no_secrets(foreign)


def test_a_remote_sitemap_sends_no_credentials_to_listed_hosts_or_across_a_redirect(
    hosts: tuple[Site, Site, Site],
) -> None:
    named, foreign, third = hosts
    # The named sitemap is an index; its first child is on the named host, its second one
    # redirects to another host, which must get no secret.
    named.routes["/sitemap.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        sitemap(f"{named.base}/pages.xml", f"{named.base}/moved.xml", index=True),
    )
    named.routes["/pages.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        sitemap(f"{named.base}/page", f"{foreign.base}/listed"),
    )
    named.routes["/moved.xml"] = (302, {"Location": f"{third.base}/moved.xml"}, b"")
    third.routes["/moved.xml"] = (
        200,
        {"Content-Type": "application/xml"},
        sitemap(f"{third.base}/from-redirected"),
    )
    named.routes["/page"] = html(page())
    foreign.routes["/listed"] = html(page())
    third.routes["/from-redirected"] = html(page())
    p = cli("check", "--type", "sitemap", named.base + "/sitemap.xml", *HEADER_ARGS)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{third.base}/from-redirected" in p.stdout
    assert_has_secrets(named)
    assert_no_secrets(foreign)
    assert_no_secrets(third)


def test_extract_sends_no_credentials_to_linked_hosts(hosts: tuple[Site, Site, Site]) -> None:
    named, foreign, _ = hosts
    named.routes["/page"] = html(page(f"{foreign.base}/linked", "/same"))
    named.routes["/same"] = html(page())
    foreign.routes["/linked"] = html(page())
    p = cli("check", "--extract", named.base + "/page", *HEADER_ARGS)
    assert p.returncode == 0, p.stdout + p.stderr
    assert_has_secrets(named)
    assert_no_secrets(foreign)


def test_local_documents_send_credentials_only_to_the_base_url_host(
    hosts: tuple[Site, Site, Site], tmp_path: Path
) -> None:
    named, foreign, _ = hosts
    named.routes["/docs/other.html"] = html(page())
    foreign.routes["/linked"] = html(page())
    (tmp_path / "index.md").write_text(
        f"[out]({foreign.base}/linked)\n\n[published](/docs/other.html)\n"
    )
    p = cli(
        "check",
        "index.md",
        "--base-url",
        named.base + "/docs/",
        "--root-dir",
        ".",
        *HEADER_ARGS,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert_has_secrets(named)
    assert_no_secrets(foreign)
    # Without --base-url no host is named: nothing gets a secret.
    foreign.clear()
    p = cli("check", "index.md", *HEADER_ARGS, cwd=tmp_path)
    assert f"{foreign.base}/linked" in p.stdout
    assert_no_secrets(foreign)


def test_a_url_list_still_sends_credentials_to_each_named_host_but_not_across_hosts(
    hosts: tuple[Site, Site, Site],
) -> None:
    named, foreign, third = hosts
    named.routes["/hop"] = (302, {"Location": f"{foreign.base}/target"}, b"")
    foreign.routes["/target"] = html(page())
    third.routes["/x"] = html(page())
    p = cli("check", named.base + "/hop", third.base + "/x", *HEADER_ARGS)
    assert p.returncode == 0, p.stdout + p.stderr
    assert_has_secrets(named)
    assert_has_secrets(third)
    assert_no_secrets(foreign)
