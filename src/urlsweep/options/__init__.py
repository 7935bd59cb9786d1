"""Options: every option declared once (table.py), the `Options` value a run carries
(model.py) and the value types options take (values.py).

See declare.py for what one declaration says and how values are checked.
"""

from __future__ import annotations

from urlsweep.errors import OptionError
from urlsweep.options.declare import Decl
from urlsweep.options.model import Options
from urlsweep.options.table import (
    DECLARATIONS,
    FORMAT_NAMES,
    declared,
    for_command,
    for_library,
    profile_names,
)
from urlsweep.options.values import (
    DEFAULT_USER_AGENT,
    OUTCOME_NAMES,
    SECRET_HEADERS,
    BasicAuth,
    HostRule,
    StatusSet,
    check_regex,
    is_secret_header,
    parse_header,
)

__all__ = [
    "DECLARATIONS",
    "DEFAULT_USER_AGENT",
    "FORMAT_NAMES",
    "OUTCOME_NAMES",
    "SECRET_HEADERS",
    "BasicAuth",
    "Decl",
    "HostRule",
    "OptionError",
    "Options",
    "StatusSet",
    "check_regex",
    "declared",
    "for_command",
    "for_library",
    "is_secret_header",
    "parse_header",
    "profile_names",
]
