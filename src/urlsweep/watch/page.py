"""The live status page: one self-contained document (no CDN), updated by polling /api/status.

The first render is complete HTML, escaped like the HTML report (reports/html.py), so the
page reads without script. The script then fetches the board as JSON every second and
rebuilds the table with DOM calls that set text only (textContent, attributes), never
markup, and a Content-Security-Policy lets only this page's own script (by nonce) run.
Filters by outcome and host live in the address's fragment (``/#outcome=broken``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Final

from urlsweep.reports.html import COLORS, e
from urlsweep.result import OUTCOMES

POLL_MS: Final = 1000


def csp(nonce: str) -> str:
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
    )


def _pct(v: Any) -> str:
    return "–" if v is None else f"{v:.2f} %"


def _row(u: dict[str, Any]) -> str:
    change = u.get("change")
    last = f"{e(change['to'])} at {e(change['at'])}" if change else ""
    status = u["status"] if u["status"] is not None else (u["error"] or "")
    return (
        f'<tr data-outcome="{e(u["outcome"])}" data-host="{e(u["host"])}">'
        f'<td class="url">{e(u["url"])}</td>'
        f'<td><span class="badge {e(u["outcome"])}">{e(u["outcome"])}</span></td>'
        f"<td>{e(status)}</td><td class=num>{e(u['ms'])}</td>"
        f"<td class=num>{_pct(u['day'])}</td><td class=num>{_pct(u['week'])}</td>"
        f"<td class=spark></td><td>{last}</td></tr>"
    )


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1f2328}
h1{font-size:1.3em;margin:0 0 .3em}
#health.bad{color:#cf222e}
table{border-collapse:collapse;width:100%;margin-top:.8em}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #d0d7de;vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.url{word-break:break-all}
.badge{padding:0 .4em;border-radius:.6em;color:#fff}
""" + "".join(f".{k}{{background:{v}}}" for k, v in COLORS.items())

# The script is a file beside this module (package data), inlined into every page.
_SCRIPT = (resources.files("urlsweep.watch") / "page.js").read_text(encoding="utf-8")


def render(snapshot: dict[str, Any], nonce: str) -> str:
    urls = snapshot["urls"]
    hosts = sorted({u["host"] for u in urls})
    outcome_opts = "".join(f'<option value="{o}">{o}</option>' for o in OUTCOMES)
    host_opts = "".join(f'<option value="{e(h)}">{e(h)}</option>' for h in hosts)
    events = "".join(
        f"<li>{e(x['at'])}  {e(x['url'])}  {e(x['from'] or 'new')} → {e(x['to'])}</li>"
        for x in reversed(snapshot["events"])
    )
    script = _SCRIPT.replace("POLL)", f"{POLL_MS})")
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{e(csp(nonce))}">'
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        "<title>urlsweep watch</title>"
        f'<style nonce="{nonce}">{_STYLE}</style></head>'
        f'<body data-round="{snapshot["round"]}" data-shown="{len(urls)}">'
        "<h1>urlsweep watch</h1>"
        f"<p>round <span id=round>{snapshot['round']}</span> · "
        f'<span id=health class="{"" if snapshot["healthy"] else "bad"}">'
        f"{e(snapshot['health'])}</span> · updated <span id=updated>"
        f"{e(snapshot['updated'])}</span> · <span id=counts></span></p>"
        '<label>outcome <select id=f-outcome><option value="">all</option>'
        f"{outcome_opts}</select></label> "
        '<label>host <select id=f-host><option value="">all hosts</option>'
        f"{host_opts}</select></label>"
        "<table><thead><tr><th>URL<th>outcome<th>status<th>ms<th>day<th>week"
        "<th>latency<th>last change</tr></thead>"
        f"<tbody id=rows>{''.join(_row(u) for u in urls)}</tbody></table>"
        f"<h2>recent changes</h2><ul id=events>{events}</ul>"
        f'<script nonce="{nonce}">{script}</script></body></html>\n'
    )


def status_json(snapshot: dict[str, Any]) -> bytes:
    return json.dumps(snapshot, ensure_ascii=False).encode()
