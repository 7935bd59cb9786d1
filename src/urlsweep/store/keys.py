"""What identifies a URL and a run in the store: URL keys, and the digests of inputs and
result options that say which runs are comparable (resume, cache, report).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from urlsweep.inputs import Target
from urlsweep.options import Options, StatusSet, is_secret_header
from urlsweep.result import Result, mask_userinfo
from urlsweep.urls import InvalidURL, normalise

# Options that change what a result says (the cache and --resume only reuse results made
# with the same ones); speed knobs (workers, timeout, per-host limits, retries) are left out.
RESULT_OPTIONS: Final = (
    "method",
    "max_redirects",
    "accept",
    "headers",
    "user_agent",
    "insecure",
    "ca_cert",
    "system_ca",
    "basic_auth",
    "cookies",
    "include",
    "exclude",
    "schemes",
    "deny_private",
    "allow_nets",
    "hosts",
)
# Header names whose values are secrets (options.is_secret_header, the transport's list
# too): never written to the store.
# The secrets' digest is slow on purpose: the store file must not let anyone test guesses.
_SECRET_ROUNDS: Final = 100_000
_SECRET_SALT: Final = b"urlsweep result profile"


def _signed(digest: int) -> int:
    """SQLite integers are signed 64-bit."""
    return digest - (1 << 64) if digest >= 1 << 63 else digest


def key_of(url: str) -> int:
    """The store's key of a URL: of its masked form, as the store keeps it (a password in
    the URL is never written to disk, not even hashed into a key). `_signed(url_digest(...))`
    in one step: it runs once per stored result."""
    text = mask_userinfo(url).encode()
    return int.from_bytes(_blake(text, digest_size=8).digest(), "little", signed=True)


_blake: Final = hashlib.blake2b


def target_key(target: Target) -> int:
    """The key of the URL a target names: its normalised form, or the raw text if invalid.

    Must agree with `result_key` for the result the target produces.
    """
    if target.invalid:
        return key_of(target.raw)
    try:
        return key_of(normalise(target.raw))
    except InvalidURL:
        return key_of(target.raw)


def result_key(result: Result) -> int:
    """The same key from a result, without normalising again (that costs ~50 µs a URL).

    The probe records the normalised URL as the first hop of a redirect chain, or as the final
    URL when there was none; results of invalid input have no final URL.
    """
    if result.redirects:
        return key_of(result.redirects[0].url)
    if result.final_url is not None:
        return key_of(result.final_url)
    return key_of(result.url)


def url_key(url: str) -> int:
    """The key of a URL typed by a person (history lookups)."""
    return target_key(Target(url))


def options_dict(options: Options) -> dict[str, Any]:
    """The options as JSON, with passwords (of URLs too), secret headers and proxy
    credentials masked."""
    return {f.name: _plain(getattr(options, f.name), f.name) for f in dataclasses.fields(options)}


def _plain(value: object, name: str = "") -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if name == "password":
            return "***"
        if name == "proxy" and "@" in value:
            scheme, _, rest = value.rpartition("://")
            return (scheme + "://" if scheme else "") + "***@" + rest.rpartition("@")[2]
        return mask_userinfo(value)  # a --base-url or --follow-host with a password
    if name == "headers" and isinstance(value, tuple):
        return [[k, "***" if is_secret_header(k) else mask_userinfo(v)] for k, v in value]
    if isinstance(value, (tuple, list)):
        return [_plain(v, name) for v in value]
    if isinstance(value, StatusSet):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    return str(value)


def secret_values(options: Options) -> list[list[str]]:
    """The values the store masks but a result depends on: secret headers, passwords."""
    out = [["header", k.lower(), v] for k, v in options.headers if is_secret_header(k)]
    for rule in options.hosts:
        out += [
            ["host", rule.pattern, k.lower(), v] for k, v in rule.headers if is_secret_header(k)
        ]
    out += [["basic", a.pattern, a.user, a.password] for a in options.basic_auth]
    return out


def secrets_digest(options: Options) -> str | None:
    """A digest of the secret values: results got with one credential are not another's."""
    values = secret_values(options)
    if not values:
        return None
    data = json.dumps(values, sort_keys=True).encode()
    return hashlib.pbkdf2_hmac("sha256", data, _SECRET_SALT, _SECRET_ROUNDS).hex()[:32]


def input_names(inputs: Sequence[str]) -> list[str]:
    """Inputs as they identify a run: files by absolute path, URLs and stdin as given
    (passwords in URLs masked: these names are stored)."""
    names = []
    for arg in inputs:
        if arg == "-" or "://" in arg:
            names.append(mask_userinfo(arg))
        else:
            names.append(os.path.abspath(arg))
    return names


def profile_dict(options: Options) -> dict[str, Any]:
    """The result options as the store keeps them (secrets masked, their digest added)."""
    opts = options_dict(options)
    profile = {k: opts.get(k) for k in RESULT_OPTIONS}
    digest = secrets_digest(options)
    if digest is not None:
        profile["secrets"] = digest
    return profile


@dataclass(frozen=True, slots=True)
class Identity:
    """Digests that say which runs are comparable."""

    fingerprint: str  # inputs + result options: what --resume matches
    profile: str  # result options: what the cache matches
    inputs_key: str  # inputs: what report compares against

    @classmethod
    def of(cls, inputs: Sequence[str], options: Options) -> Identity:
        names = input_names(inputs)
        profile = profile_dict(options)
        run: dict[str, object] = {"inputs": names, "options": profile}
        passwords = [u for u in inputs if "://" in u and mask_userinfo(u) != u]
        if passwords:  # masked in `names`: a resume with another password is another run
            data = json.dumps(passwords).encode()
            run["passwords"] = hashlib.pbkdf2_hmac(
                "sha256", data, _SECRET_SALT, _SECRET_ROUNDS
            ).hex()[:32]
        return cls(_hash(run), _hash(profile), _hash(names))


def _hash(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:32]
