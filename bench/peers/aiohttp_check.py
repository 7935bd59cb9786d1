"""The usual asyncio checker: aiohttp + a semaphore bounding concurrency.

Written as such scripts usually are: read the list, create one task per URL, let an
`asyncio.Semaphore(N)` bound how many requests are in flight. The connector's own
limit is raised to N so the semaphore, not aiohttp's default of 100, sets concurrency.

Usage: aiohttp_check.py URL_FILE [CONCURRENCY] [TIMEOUT_S]
Prints one `STATUS URL` line per URL (`ERR:<exception> URL` when no response came).
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp


async def check(
    session: aiohttp.ClientSession, sem: asyncio.Semaphore, url: str, first: list[bool]
) -> None:
    async with sem:
        try:
            async with session.get(url) as resp:
                await resp.read()
                line = f"{resp.status} {url}\n"
        except (TimeoutError, aiohttp.ClientError) as exc:
            line = f"ERR:{type(exc).__name__} {url}\n"
    sys.stdout.write(line)
    if first[0]:  # first result visible at once, then block-buffered
        sys.stdout.flush()
        first[0] = False


async def run(path: str, concurrency: int, timeout: float) -> None:
    with open(path, encoding="utf-8") as fh:
        urls = [line.strip() for line in fh if line.strip()]
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    first = [True]
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        await asyncio.gather(*(check(session, sem, url, first) for url in urls))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    concurrency = int(argv[2]) if len(argv) > 2 else 100
    timeout = float(argv[3]) if len(argv) > 3 else 10.0
    asyncio.run(run(argv[1], concurrency, timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
