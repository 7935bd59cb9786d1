"""The tutorial's URL status checker: requests + ThreadPoolExecutor.

This is the pattern most "check a list of URLs in Python" tutorials teach, kept as
written there: read the whole list, submit one future per URL, print results as they
complete. `requests.get` without a Session opens a new connection for every URL.

Usage: tutorial_requests.py URL_FILE [WORKERS] [TIMEOUT_S]
Prints one `STATUS URL` line per URL (`ERR URL` when no response was received).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor, as_completed

import requests


def check_url_status(url: str, timeout: float = 10.0) -> tuple[str, int | None]:
    """Return (url, status code), or (url, None) when the request failed."""
    try:
        response = requests.get(url, timeout=timeout)
        return url, response.status_code
    except requests.RequestException:
        return url, None


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    workers = int(argv[2]) if len(argv) > 2 else 5
    timeout = float(argv[3]) if len(argv) > 3 else 10.0
    with open(argv[1], encoding="utf-8") as fh:
        urls = [line.strip() for line in fh if line.strip()]

    first = True
    with ThreadPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(check_url_status, url, timeout) for url in urls]
        for future in as_completed(futures):
            url, status = future.result()
            sys.stdout.write(f"{status if status is not None else 'ERR'} {url}\n")
            if first:  # make the first result visible at once; block-buffer the rest
                sys.stdout.flush()
                first = False
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
