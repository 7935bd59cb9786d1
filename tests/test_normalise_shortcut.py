"""The fast path of normalise() must agree with the general (WHATWG) parser on every input."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from urlsweep.urls import (
    _PLAIN_ORIGIN,
    _canonical_shortcut,
    _host_key,
    _normalise,
    host_key,
    normalise,
)

_PLAIN = "az09-._~!$&'()*+,;=:@/?"
_ODD = "AZ%# \u00e9\t[]"

# Mostly plain URLs (the shortcut's domain), with odd characters mixed in at its edges.
label = st.text("az09-", min_size=1, max_size=66) | st.text("az09-" + _ODD, max_size=4)
url_like = st.builds(
    lambda scheme, labels, port, lead, path: f"{scheme}://{'.'.join(labels)}{port}{lead}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp"]),
    st.lists(label, min_size=1, max_size=5),
    st.sampled_from(["", ":80", ":443", ":8080", ":0", ":0080", ":65535", ":65536", ":"]),
    st.sampled_from(["/", "", "?"]),
    st.text(_PLAIN, max_size=30) | st.text(_PLAIN + _ODD, max_size=30),
)


def outcome(fn: object, arg: str) -> str:
    """What `fn(arg)` gives or raises, comparable across the fast and the general path."""
    try:
        return fn(arg)  # type: ignore[operator, no-any-return]
    except ValueError as exc:  # InvalidURL included
        return f"{type(exc).__name__}({exc}, {getattr(exc, 'error', '')})"


@settings(max_examples=400, deadline=None)
@given(st.one_of(url_like, st.text(max_size=40)))
@example("http://a.com:80/x?")
@example("https://a.com:443")
@example("http://a.com:65536/")
@example("http://" + "a" * 64 + ".com/")
@example("http://" + ".".join(["a" * 60] * 5) + "/")
@example("http://a.com./")
@example("http://a..com/")
@example("http://0x7f.1/")  # numbers are IPv4 addresses to the URL Standard
@example("http://256.1.1.1/")
@example("http://1.2.3.4/")
@example("http://host1/")
@example("http://a.b/x/./y/../z")
@example("http://xn--zz.com/")  # punycode is validated
@example("http://a.b/?q='x'")
def test_shortcut_agrees_with_the_parser(raw: str) -> None:
    fast = _canonical_shortcut(raw)
    if fast is not None:
        assert fast == _normalise(raw)
    assert outcome(normalise, raw) == outcome(_normalise, raw)


def test_shortcut_takes_the_common_shapes() -> None:
    # If these stop matching, normalise() silently gets 10x slower on big lists.
    for raw in (
        "http://127.0.0.1:8080/ok?i=1",
        "https://example.com/a/b.html",
        "https://www.example.org",
        "http://example.com:80/x;y=1?q=a/b&c=d",
    ):
        assert _canonical_shortcut(raw) is not None, raw
    assert _canonical_shortcut("http://example.com:80/") == "http://example.com/"


@settings(max_examples=400, deadline=None)
@given(url_like)
@example("http://a.b:0/")
@example("http://a.b:080/")
@example("http://a.b:65536/")
@example("http://a.b\t/x")
@example("http://a.b/x\ty")
@example("http://a.b.")
def test_host_key_shortcut_agrees_with_urlsplit(url: str) -> None:
    assert outcome(host_key, url) == outcome(_host_key, url)


def test_host_key_shortcut_takes_normalised_urls() -> None:
    assert _PLAIN_ORIGIN.match("http://127.0.0.1:8080/ok?i=1")
    assert _PLAIN_ORIGIN.match("https://example.com/")
    assert host_key("https://example.com/x") == "https://example.com:443"
    assert host_key("http://example.com:8080?q") == "http://example.com:8080"
