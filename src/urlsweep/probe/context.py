"""The per-run check context: everything a check needs besides its URL, built once per run.

Options, the compiled policy (scope, refused addresses, per-host settings, credentials),
the TLS trust settings and the run's cookie jar travel together, so a check is
`steps(raw, url, context)` and never recompiles, looks up or caches any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from urlsweep.options import Options
from urlsweep.probe.policy import Policy
from urlsweep.probe.transport import CookieJar, Transport, ca_file_of


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What every check of one run shares (read-only but for the cookie jar's own lock)."""

    options: Options
    policy: Policy
    ca_file: str | None  # the CA bundle handles trust; None with --insecure
    cookies: CookieJar | None = None

    @classmethod
    def of(cls, options: Options, policy: Policy | None = None) -> CheckContext:
        """The context of a run with `options` (and its policy, if compiled already).
        Raises OptionError for unusable TLS options (no system bundle, say)."""
        ca_file = ca_file_of(options)
        jar = CookieJar() if options.cookies else None
        return cls(options, policy or Policy(options), ca_file, jar)

    def transport(self) -> Transport:
        """A new easy handle set up for this run (one per transfer in flight)."""
        return Transport(
            self.options, refuse=self.policy.refuser, cookies=self.cookies, ca_file=self.ca_file
        )

    def close(self) -> None:
        if self.cookies is not None:
            self.cookies.close()
