"""mailto: syntax and --check-mail (against a DNS server of the test's own on loopback),
tel: skipped, in documents and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.dns import DNSServer
from urlsweep.links.mail import MailChecker, address_problem, mail_addresses, parse_server


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("someone@example.org", True),
        ("first.last+tag@sub.example.org", True),
        ('"odd person"@example.org', True),
        ("user@[192.0.2.1]", True),
        ("üser@example.org", False),
        ("user@bücher.example", True),
        ("no-at-sign.example.org", False),
        ("@example.org", False),
        ("a..b@example.org", False),
        ("user@localhost", False),
        ("user@-bad-.example", False),
        ("user@exa_mple.org", False),
    ],
)
def test_address_syntax(address: str, ok: bool) -> None:
    assert (address_problem(address) is None) is ok


def test_mailto_addresses() -> None:
    assert mail_addresses("mailto:a@x.org,b%40y.org?subject=hi") == ["a@x.org", "b@y.org"]
    assert mail_addresses("MAILTO:?to=x") == []
    assert parse_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_server("[::1]:53") == ("::1", 53)
    with pytest.raises(ValueError):
        parse_server("host:port")


def test_domains_looked_up_on_a_loopback_dns_server() -> None:
    with DNSServer({"mx.example": {"MX"}, "a-only.example": {"A"}, "none.example": set()}) as dns:
        mail = MailChecker(True, ("127.0.0.1", dns.port), timeout=5)
        assert mail.check("mailto:a@mx.example", ()).ok
        assert mail.check("mailto:a@a-only.example", ()).ok  # no MX: the A record receives
        r = mail.check("mailto:a@none.example", ("doc.md:3",))
        assert r.outcome == "broken" and r.error == "dns" and "no MX, A or AAAA" in r.detail
        assert mail.check("mailto:a@unknown.example", ()).error == "dns"  # NXDOMAIN
        assert mail.check("mailto:b@mx.example", ()).ok  # cached: asked once
        assert dns.asked.count(("mx.example", 15)) == 1
        assert mail.check("mailto:a@x.invalid", ()).error == "dns"  # never asked
        assert not any(name.endswith("invalid") for name, _ in dns.asked)
    unchecked = MailChecker(False).check("mailto:a@mx.example", ())
    assert unchecked.outcome == "skipped" and "syntax ok" in unchecked.detail
    assert MailChecker(False).check("tel:+1-555-0100", ()).outcome == "skipped"


def test_documents_report_mail_and_phone_links(tmp_path: Path) -> None:
    (tmp_path / "c.md").write_text(
        "[m](mailto:team@mx.example) [bad](mailto:not-an-address) [t](tel:+15550100)\n"
        "[gone](mailto:x@gone.example)\n"
    )
    with DNSServer({"mx.example": {"MX"}}) as dns:
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "urlsweep",
                "check",
                "c.md",
                "--no-store",
                "-f",
                "jsonl",
                "--check-mail",
                "--dns-server",
                dns.address,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    assert p.returncode == 1, p.stderr
    got = {r["url"]: r for r in map(json.loads, p.stdout.splitlines())}
    assert got["mailto:team@mx.example"]["ok"]
    assert got["mailto:team@mx.example"]["sources"] == ["c.md:1"]
    assert got["mailto:not-an-address"]["error"] == "invalid_url"
    assert got["tel:+15550100"]["outcome"] == "skipped"
    assert got["mailto:x@gone.example"]["error"] == "dns"


def test_dump_lists_links_with_sources_and_sends_no_request(tmp_path: Path) -> None:
    from support import sites

    site = sites.Site()
    try:
        (tmp_path / "urls.txt").write_text(f"{site.base}/listed\n")
        (tmp_path / "a.html").write_text(
            f'<a href="{site.base}/x">x</a>\n<img src="missing.png">\n'
            '<a href="mailto:nobody">m</a>\n'
        )
        p = subprocess.run(
            [
                sys.executable,
                "-m",
                "urlsweep",
                "check",
                "a.html",
                "urls.txt",
                "--dump",
                "--no-store",
                "-f",
                "jsonl",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert p.returncode == 0, p.stderr
        got = {r["url"]: r for r in map(json.loads, p.stdout.splitlines())}
        assert set(got) == {f"{site.base}/x", "missing.png", "mailto:nobody", f"{site.base}/listed"}
        assert all(r["outcome"] == "skipped" and "--dump" in r["detail"] for r in got.values())
        assert got[f"{site.base}/x"]["sources"] == ["a.html:1"]
        assert got["missing.png"]["via"] == ["img[src]"]
        assert got[f"{site.base}/listed"]["sources"] == ["urls.txt:1"]
        assert site.log == []  # nothing was requested
        bad = subprocess.run(
            [sys.executable, "-m", "urlsweep", "crawl", site.base + "/", "--dump", "--no-store"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "--dump" in bad.stderr
    finally:
        site.close()
