"""URL normalisation: what goes on the wire, and what is rejected with which category."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from urlsweep.urls import (
    InvalidURL,
    host_key,
    is_reserved_invalid,
    normalise,
    request_url,
    reserved_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://Example.COM", "http://example.com/"),
        ("HTTP://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/", "https://example.com/"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("  http://example.com/x  ", "http://example.com/x"),
        (
            "https://bücher.de/über uns?q=ä b",
            "https://xn--bcher-kva.de/%C3%BCber%20uns?q=%C3%A4%20b",
        ),
        ("http://example.com/%7Euser/%zz", "http://example.com/%7Euser/%zz"),  # as sent
        # read as the WHATWG URL Standard reads them (browsers, Node.js)
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://0300.0250.0.1/", "http://192.168.0.1/"),
        ("http://3232235521/", "http://192.168.0.1/"),
        ("http:\\\\example.com\\a\\b", "http://example.com/a/b"),
        ("http://exa\tmple.com/a\nb", "http://example.com/ab"),
        ("http://example.com/a/./b/../c/%2e%2E/d", "http://example.com/a/d"),
        ("https://faß.de/", "https://xn--fa-hia.de/"),  # UTS #46: ß is kept, not "ss"
        ("https://EXAMPLE.com/a?", "https://example.com/a"),
        ("https://example.com/a?#", "https://example.com/a"),
        ("https://example.com/a?#f", "https://example.com/a#f"),
        ("https://user:p%40ss@example.com:443/", "https://user:p%40ss@example.com/"),
        ("http://example.com/q?a='b'", "http://example.com/q?a=%27b%27"),
        ("http:example.com/x", "http://example.com/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://[0:0::1]/", "http://[::1]/"),
        ("http://example.com./", "http://example.com/"),
        ("http://example.com/a#frag", "http://example.com/a#frag"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("http://", "invalid_url"),
        ("http://[::1", "invalid_url"),
        ("not a url", "invalid_url"),
        ("example.com", "invalid_url"),
        ("", "invalid_url"),
        ("http://exa mple.com/", "invalid_url"),
        ("http://a..b/", "invalid_url"),
        ("http://x:99999/", "invalid_url"),
        ("http://x:0/", "invalid_url"),
        ("http://[zz::1]/", "invalid_url"),
        ("http://exa\x00mple.com/", "invalid_url"),
        ("ftp://example.com/file", "unsupported_scheme"),
        ("javascript:alert(1)", "unsupported_scheme"),
        ("mailto:someone@example.com", "unsupported_scheme"),
        ("file:///etc/passwd", "unsupported_scheme"),
    ],
)
def test_rejected(raw: str, error: str) -> None:
    with pytest.raises(InvalidURL) as info:
        normalise(raw)
    assert info.value.error == error


def test_missing_scheme_suggests_one() -> None:
    with pytest.raises(InvalidURL, match=r"did you mean https://example\.com"):
        normalise("example.com")


def test_same_resource_normalises_to_same_url() -> None:
    variants = ["http://EXAMPLE.com", "http://example.com:80/", "http://example.com/"]
    assert len({normalise(v) for v in variants}) == 1


def test_host_key_and_helpers() -> None:
    assert host_key("http://example.com/a") == "http://example.com:80"
    assert host_key("https://example.com:8443/a") == "https://example.com:8443"
    assert host_key("http://[::1]:81/") == "http://[::1]:81"
    assert host_key("http://example.com/") != host_key("https://example.com/")
    assert request_url("http://a/b?c#d") == "http://a/b?c"
    assert is_reserved_invalid("http://x.invalid/")
    assert is_reserved_invalid("http://INVALID./")
    assert not is_reserved_invalid("http://invalid.example/")
    assert is_reserved_invalid("https://a.b.invalid:8443/x?y#z")
    assert reserved_key("http://a.InVaLiD:80") and reserved_key("http://invalid.:80")
    assert not reserved_key("http://invalidate.example:80")
    assert not reserved_key("http://127.0.0.1:8080")
    assert not is_reserved_invalid("http://[::1]:8080/a.invalid")
    assert not is_reserved_invalid("http://x.invalid.example:80/")


@given(st.text(max_size=300))
def test_normalise_never_crashes(text: str) -> None:
    try:
        url = normalise(text)
    except InvalidURL as exc:
        assert exc.error in ("invalid_url", "unsupported_scheme")
        return
    assert url.startswith(("http://", "https://"))
    assert url.isascii()
    assert " " not in url
    # Normalising is idempotent: a normalised URL is its own canonical form.
    assert normalise(url) == url


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60),
)
def test_normalise_with_scheme_never_crashes(scheme: str, rest: str) -> None:
    try:
        normalise(f"{scheme}://{rest}")
    except InvalidURL as exc:
        assert exc.error == "invalid_url"


def test_accepted_statuses_are_inclusive_ranges() -> None:
    from urlsweep.options.values import StatusSet

    accept = StatusSet.parse("200-299,403,500-502")
    assert [s for s in (199, 200, 299, 300, 403, 404, 500, 502, 503) if s in accept] == [
        200,
        299,
        403,
        500,
        502,
    ]
    assert "200" not in accept and None not in accept
    assert 204 in StatusSet() and 301 not in StatusSet()
