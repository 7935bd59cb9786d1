#!/usr/bin/env bash
# urlsweep benchmark: the one command.
#
#   bench/run.sh [--quick] [--scenario 1,2,3,4] [--tools urlsweep,curl,...]
#
# Installs what it needs (Debian: nginx-light + echo module, curl, wrk; bench/.venv with
# the Python peers; linkinator into bench/node_modules), starts nginx on 127.0.0.1-50,
# runs the scenarios, prints the tables and writes bench/RESULTS.md. All traffic stays
# on loopback; nginx is stopped at exit. See bench/README.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

say() { printf '[bench] %s\n' "$*" >&2; }

# --- system packages ----------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_http_echo_module.so ] || missing+=(libnginx-mod-http-echo)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if (( ${#missing[@]} )); then
    say "installing: ${missing[*]}"
    sudo=()
    (( EUID == 0 )) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian's package may start the system nginx on :80; the bench never uses it.
fi
export PATH="$PATH:/usr/sbin"

# --- Python peers (bench/.venv) -----------------------------------------------------
stamp=.venv/.installed
if [ ! -x .venv/bin/python ] || [ ! -e "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
    say "setting up bench/.venv"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
    touch "$stamp"
fi

# --- linkinator (bench/node_modules) ------------------------------------------------
if command -v npm >/dev/null 2>&1; then
    if [ ! -x node_modules/.bin/linkinator ] || [ package-lock.json -nt node_modules ]; then
        say "installing linkinator (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error >/dev/null || \
            say "npm ci failed: linkinator will be skipped"
    fi
else
    say "npm not found: linkinator will be skipped"
fi

# --- run ----------------------------------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/urlsweep-bench.XXXXXX")"
cleanup() {
    # run.py stops nginx itself; this is the backstop if it was killed hard.
    if [ -s "$tmp/nginx.pid" ]; then
        kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
.venv/bin/python run.py --tmp "$tmp" "$@"
