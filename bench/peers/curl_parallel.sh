#!/usr/bin/env bash
# curl's own parallel mode as a URL checker:
#   curl --parallel --parallel-max N -K LIST -w '%{http_code} %{url}\n' -o /dev/null -s -I
#
# Usage: curl_parallel.sh URL_FILE [CONCURRENCY] [TIMEOUT_S]
# Prints one `STATUS URL` line per URL (`000 URL` when no response was received).
#
# curl accepts --parallel-max up to 300 (a larger value silently falls back to the
# default of 50), so a higher CONCURRENCY is split over ceil(N/300) curl processes,
# each taking every k-th URL; their line-buffered outputs share stdout.
set -euo pipefail
file=${1:?usage: curl_parallel.sh URL_FILE [CONCURRENCY] [TIMEOUT_S]}
conc=${2:-50}
timeout=${3:-10}
max_per_proc=300
shards=$(( (conc + max_per_proc - 1) / max_per_proc ))
per=$(( (conc + shards - 1) / shards ))
work=$(mktemp -d "${TMPDIR:-/tmp}/curl-peer.XXXXXX")
trap 'rm -rf "$work"' EXIT

# One curl config per shard: `url = "..."` plus its own `output = "/dev/null"`.
awk -v shards="$shards" -v dir="$work" 'NF {
    printf "url = \"%s\"\noutput = \"/dev/null\"\n", $1 > (dir "/shard" (NR % shards) ".cfg")
}' "$file"

common=(--parallel --parallel-max "$per" -s -I --max-time "$timeout"
        -w '%{http_code} %{url}\n')
if (( shards == 1 )); then
    curl "${common[@]}" -K "$work/shard0.cfg" || true
else
    pids=()
    for cfg in "$work"/shard*.cfg; do
        stdbuf -oL curl "${common[@]}" -K "$cfg" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
fi
