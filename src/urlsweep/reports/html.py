"""One self-contained HTML page: summary, charts, and a sortable, filterable table.

No CDN and no network: styles, script and SVG charts are inline. Everything that comes from
an input or a server is escaped; in addition a Content-Security-Policy lets only this
report's own script (by nonce) run, so even a missed escape could not execute anything.
The filter lives in the address's fragment (``report.html#q=timeout&outcome=broken``), so a
filtered view can be bookmarked or shared.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from html import escape
from typing import Final, TextIO

from urlsweep.reports.base import SpooledSink
from urlsweep.reports.text import CHANGE_LABELS, attempts_note, status_text
from urlsweep.reports.visible import visible
from urlsweep.result import OUTCOMES, Result
from urlsweep.summary import NEWLY_BROKEN, NEWLY_FIXED, Summary

COLORS: Final = {
    "ok": "#1a7f37",
    "broken": "#cf222e",
    "unverifiable": "#bf8700",
    "skipped": "#8c959f",
    "tolerated": "#e16f24",
}
# Latency histogram bins (upper edges in ms); the last bin is open.
BINS: Final = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


SOURCES_SHOWN: Final = 3  # sources listed in a row; the rest behind "N more"


def e(s: object) -> str:
    """Escaped for HTML, with control characters written out (visible.py)."""
    return escape(visible(str(s)), quote=True)


def bin_label(i: int) -> str:
    def ms(v: int) -> str:
        return f"{v / 1000:g}s" if v >= 1000 else f"{v}"

    return f"≥{ms(BINS[-1])}" if i == len(BINS) else f"<{ms(BINS[i])}"


def bin_of(ms: float) -> int:
    for i, edge in enumerate(BINS):
        if ms < edge:
            return i
    return len(BINS)


def is_web_url(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def link(url: str) -> str:
    if is_web_url(url):
        return f'<a href="{e(url)}" rel="noopener noreferrer nofollow">{e(url)}</a>'
    return e(url)


def outcome_chart(summary: Summary) -> str:
    """Horizontal bars, one per outcome, with counts."""
    rows = [(o, summary.by_outcome[o]) for o in OUTCOMES if summary.by_outcome[o]]
    rows += [(o, n) for o, n in sorted(summary.by_outcome.items()) if o not in OUTCOMES and n]
    if not rows:
        return '<p class="empty">No results.</p>'
    top = max(n for _, n in rows)
    bar_h, gap, label_w, width = 22, 8, 110, 420
    height = len(rows) * (bar_h + gap)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="Results by outcome">'
    ]
    for i, (outcome, n) in enumerate(rows):
        y = i * (bar_h + gap)
        w = max(2.0, (width - label_w - 70) * n / top)
        color = COLORS.get(outcome, "#57606a")
        parts.append(
            f'<text x="0" y="{y + bar_h - 6}" class="lbl">{e(outcome)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3"'
            f' fill="{color}"><title>{e(outcome)}: {n}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h - 6}" class="num">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def latency_chart(counts: list[int]) -> str:
    """Vertical bars over logarithmic bins of response time."""
    if not any(counts):
        return '<p class="empty">No timings.</p>'
    width, height, base = 500, 190, 150
    slot = width / len(counts)
    top = max(counts)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="Response time histogram">'
    ]
    for i, n in enumerate(counts):
        h = 0.0 if n == 0 else max(2.0, (base - 20) * math.sqrt(n / top))
        x = i * slot + 3
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{slot - 6:.1f}" height="{h:.1f}"'
            f' rx="2" class="bar"><title>{e(bin_label(i))} ms: {n}</title></rect>'
        )
        if n:
            parts.append(
                f'<text x="{x + (slot - 6) / 2:.1f}" y="{base - h - 4:.1f}" class="num"'
                f' text-anchor="middle">{n}</text>'
            )
        parts.append(
            f'<text x="{x + (slot - 6) / 2:.1f}" y="{base + 16}" class="lbl"'
            f' text-anchor="middle">{e(bin_label(i))}</text>'
        )
    parts.append(
        f'<text x="{width / 2}" y="{height - 4}" class="lbl" text-anchor="middle">'
        "milliseconds (bar height: square root of count)</text></svg>"
    )
    return "".join(parts)


def sources_cell(sources: tuple[str, ...]) -> str:
    """The first few sources, and the others behind a "N more" that expands."""
    shown = " ".join(e(s) for s in sources[:SOURCES_SHOWN])
    rest = sources[SOURCES_SHOWN:]
    if not rest:
        return shown
    more = " ".join(e(s) for s in rest)
    return f'{shown}<details class="more"><summary>{len(rest)} more</summary>{more}</details>'


def redirect_chain(result: Result) -> str:
    if not result.redirects:
        return ""
    n = len(result.redirects)
    hops = "".join(f"<li><b>{h.status}</b> {link(h.url)}</li>" for h in result.redirects)
    final = f"<li><b>{e(status_text(result))}</b> {link(result.final_url or '')}</li>"
    return (
        f"<details><summary>{n} redirect{'s' if n > 1 else ''}</summary>"
        f"<ol>{hops}{final}</ol></details>"
    )


_CSS: Final = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--panel:#f6f8fa;--line:#d1d9e0;--accent:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;
--panel:#151b23;--line:#3d444d;--accent:#4493f8}}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
.meta{color:var(--muted);margin:0 0 16px;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:8px 14px;
min-width:104px}
.card b{display:block;font-size:22px}.card span{color:var(--muted);font-size:12px}
.card.broken b,.card.newly_broken b{color:#cf222e}.card.ok b,.card.newly_fixed b{color:#1a7f37}
.card.unverifiable b{color:#bf8700}.card.tolerated b{color:#e16f24}
.charts{display:flex;flex-wrap:wrap;gap:16px;margin-bottom:16px;align-items:flex-start}
figure{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:8px;
padding:12px 14px}
svg text{fill:var(--fg);font-size:12px}svg .lbl{fill:var(--muted)}svg .bar{fill:var(--accent)}
.controls{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin:8px 0}
.controls input[type=search]{flex:1;min-width:240px;padding:6px 10px;font:inherit;
border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.controls select{padding:5px 8px;font:inherit;border:1px solid var(--line);border-radius:6px;
background:var(--bg);color:var(--fg)}
#shown{color:var(--muted)}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{position:sticky;top:0;background:var(--panel);white-space:nowrap}
th button{all:unset;cursor:pointer;font-weight:600}
th[aria-sort=ascending] button::after{content:" ▲"}
th[aria-sort=descending] button::after{content:" ▼"}
td.url{word-break:break-all;min-width:280px}td.num{text-align:right;white-space:nowrap}
td a{color:var(--accent);text-decoration:none}td a:hover{text-decoration:underline}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;
font-weight:600}
.badge.ok{background:#1a7f37}.badge.broken{background:#cf222e}
.badge.unverifiable{background:#bf8700}.badge.skipped{background:#8c959f}
.badge.tolerated{background:#e16f24}
.chg{display:inline-block;margin-left:4px;font-size:11px;font-weight:700;text-transform:uppercase}
.chg.newly_broken{color:#cf222e}.chg.newly_fixed{color:#1a7f37}
details summary{cursor:pointer;color:var(--accent)}details ol{margin:4px 0;padding-left:20px}
.detail{color:var(--muted);word-break:break-word}.src{color:var(--muted);font-size:12px}
.empty{color:var(--muted)}
"""

_JS: Final = """
(function () {
  "use strict";
  var q = document.getElementById("q"), sel = document.getElementById("outcome");
  var chg = document.getElementById("changed"), shown = document.getElementById("shown");
  var table = document.getElementById("results"), tbody = table.tBodies[0];
  var rows = Array.prototype.map.call(tbody.rows, function (r) {
    return {el: r, text: r.textContent.toLowerCase()};
  });
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    q.value = p.get("q") || "";
    sel.value = p.get("outcome") || "";
    if (sel.selectedIndex < 0) sel.value = "";
    chg.checked = p.get("changed") === "1";
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (q.value) p.set("q", q.value);
    if (sel.value) p.set("outcome", sel.value);
    if (chg.checked) p.set("changed", "1");
    try { history.replaceState(null, "", "#" + p.toString()); } catch (err) {}
  }
  function apply() {
    var needle = q.value.trim().toLowerCase(), o = sel.value, n = 0;
    rows.forEach(function (r) {
      var show = (!needle || r.text.indexOf(needle) >= 0) &&
        (!o || r.el.getAttribute("data-outcome") === o) &&
        (!chg.checked || r.el.hasAttribute("data-change"));
      r.el.hidden = !show;
      if (show) n++;
    });
    shown.textContent = n + " of " + rows.length + " shown";
    document.body.setAttribute("data-shown", String(n));
  }
  function onChange() { apply(); writeHash(); }
  q.addEventListener("input", onChange);
  sel.addEventListener("change", onChange);
  chg.addEventListener("change", onChange);
  window.addEventListener("hashchange", function () { readHash(); apply(); });
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, idx) {
    th.querySelector("button").addEventListener("click", function () {
      var num = th.getAttribute("data-type") === "num";
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      function key(r) {
        var c = r.el.cells[idx], v = c.getAttribute("data-v");
        if (v === null) v = c.textContent;
        if (num) { var f = parseFloat(v); return isNaN(f) ? -1 : f; }
        return v.toLowerCase();
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r.el); });
      tbody.appendChild(frag);
    });
  });
  readHash();
  apply();
  document.body.setAttribute("data-ready", "1");
})();
"""

_COLUMNS: Final = (
    ("Outcome", "text"),
    ("Status", "num"),
    ("Method", "text"),
    ("Time (ms)", "num"),
    ("URL", "text"),
    ("Redirects", "num"),
    ("Detail", "text"),
    ("Source", "text"),
)


class HtmlSink(SpooledSink):
    def __init__(self, stream: TextIO, changes: Mapping[str, str] | None = None) -> None:
        super().__init__(stream, changes)
        self.nonce = secrets.token_urlsafe(18)
        self.latency = [0] * (len(BINS) + 1)

    def write(self, result: Result) -> None:
        if result.elapsed_ms > 0:
            self.latency[bin_of(result.elapsed_ms)] += 1
        change = self.change(result)
        outcome = result.outcome
        chg_attr = f' data-change="{e(change)}"' if change else ""
        chg = f' <span class="chg {e(change)}">{e(CHANGE_LABELS[change])}</span>' if change else ""
        status = result.status if result.status is not None else ""
        via = f' <span class="via">{e(" ".join(result.via))}</span>' if result.via else ""
        attempts = attempts_note(result)
        title = f' title="{e(attempts)}"' if attempts else ""
        detail = "; ".join(d for d in (result.detail, attempts) if d)
        self.spool(
            result,
            f'<tr data-outcome="{e(outcome)}"{chg_attr}>'
            f'<td data-v="{e(outcome)}"><span class="badge {e(outcome)}">{e(outcome)}</span>'
            f"{chg}</td>"
            f'<td class="num" data-v="{status}">{e(status_text(result))}</td>'
            f"<td>{e(result.method or '')}</td>"
            f'<td class="num" data-v="{result.elapsed_ms:.1f}"{title}>'
            f"{result.elapsed_ms:.0f}</td>"
            f'<td class="url">{link(result.url)}</td>'
            f'<td data-v="{len(result.redirects)}">{redirect_chain(result)}</td>'
            f'<td class="detail">{e(detail)}</td>'
            f'<td class="src">{sources_cell(result.sources)}{via}</td></tr>\n',
        )

    def _cards(self, summary: Summary) -> str:
        cards: list[tuple[str, object, str]] = [("total", summary.total, "URLs")]
        cards += [(o, summary.by_outcome[o], o) for o in OUTCOMES if summary.by_outcome[o]]
        if summary.changes is not None:
            for kind in (NEWLY_BROKEN, NEWLY_FIXED):
                n = sum(1 for c in summary.changes.values() if c == kind)
                cards.append((kind, n, CHANGE_LABELS[kind]))
        if summary.duplicates:
            cards.append(("dup", summary.duplicates, "duplicates skipped"))
        cards.append(("time", f"{summary.elapsed:.1f} s", f"{summary.rate:,.1f} URLs/s"))
        return "".join(
            f'<div class="card {e(cls)}"><b>{e(value)}</b><span>{e(label)}</span></div>'
            for cls, value, label in cards
        )

    def head(self, summary: Summary) -> str:
        n = self.nonce
        csp = (
            f"default-src 'none'; style-src 'nonce-{n}'; script-src 'nonce-{n}';"
            " img-src data:; base-uri 'none'; form-action 'none'"
        )
        meta = []
        if summary.run is not None:
            run = summary.run
            meta.append(f"run {e(run['id'])}, started {e(run['started'])}")
            if run.get("inputs"):
                meta.append("inputs: " + e(", ".join(str(i) for i in run["inputs"])))
        if summary.interrupted:
            meta.append("interrupted: not every URL was checked")
        options = '<option value="">all outcomes</option>' + "".join(
            f'<option value="{o}">{o}</option>' for o in OUTCOMES
        )
        heads = "".join(
            f'<th data-type="{kind}" scope="col"><button type="button">{e(name)}</button></th>'
            for name, kind in _COLUMNS
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>urlsweep report</title>\n"
            f'<style nonce="{n}">{_CSS}</style></head>\n<body>\n'
            "<header><h1>urlsweep report</h1>"
            f'<p class="meta">{" · ".join(meta)}</p></header>\n'
            f'<section class="cards">{self._cards(summary)}</section>\n'
            '<section class="charts">'
            f"<figure><h2>Outcomes</h2>{outcome_chart(summary)}</figure>"
            f"<figure><h2>Response time</h2>{latency_chart(self.latency)}</figure>"
            "</section>\n"
            '<section class="controls">'
            '<input id="q" type="search" placeholder="Filter: URL, status, message, source"'
            ' aria-label="Filter rows" autocomplete="off">'
            f'<select id="outcome" aria-label="Outcome">{options}</select>'
            '<label><input id="changed" type="checkbox"> only changes</label>'
            '<span id="shown"></span></section>\n'
            f'<table id="results"><thead><tr>{heads}</tr></thead><tbody>\n'
        )

    def tail(self, summary: Summary) -> str:
        return f'</tbody></table>\n<script nonce="{self.nonce}">{_JS}</script>\n</body></html>\n'
