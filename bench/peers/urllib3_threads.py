"""A hand-rolled urllib3 checker: one shared PoolManager, N worker threads.

A careful hand-written baseline: URLs stream from the file through a bounded queue (so
memory does not grow with the list), connections are kept alive per host, urllib3's
default retry policy applies.

Usage: urllib3_threads.py URL_FILE [WORKERS] [TIMEOUT_S]
Prints one `STATUS URL` line per URL (`ERR:<exception> URL` when no response came).
"""

from __future__ import annotations

import queue
import sys
import threading

import urllib3

_STOP = ""


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    workers = int(argv[2]) if len(argv) > 2 else 50
    timeout = float(argv[3]) if len(argv) > 3 else 10.0
    http = urllib3.PoolManager(num_pools=128, maxsize=workers)
    todo: queue.Queue[str] = queue.Queue(maxsize=workers * 4)
    out_lock = threading.Lock()
    first = threading.Event()

    def worker() -> None:
        while True:
            url = todo.get()
            if url == _STOP:
                return
            try:
                resp = http.request("GET", url, timeout=timeout)
                line = f"{resp.status} {url}\n"
            except urllib3.exceptions.HTTPError as exc:
                line = f"ERR:{type(exc).__name__} {url}\n"
            with out_lock:
                sys.stdout.write(line)
                if not first.is_set():  # first result visible at once, then buffered
                    sys.stdout.flush()
                    first.set()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    with open(argv[1], encoding="utf-8") as fh:
        for line in fh:
            url = line.strip()
            if url:
                todo.put(url)
    for _ in threads:
        todo.put(_STOP)
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
