"""libcurl's multi interface, for the engine's driver: many transfers moved by one thread.

The driver (engine/driver.py) decides what runs when; this wrapper is all it needs of
libcurl, so that pycurl stays inside probe/. The hot calls are libcurl's own bound methods
(no Python layer in between: the driver calls them once per transfer or per turn).
"""

from __future__ import annotations

from typing import Any, Final

import pycurl

_AGAIN: Final = pycurl.E_CALL_MULTI_PERFORM


class MultiHandle:
    """One libcurl multi handle; `maxconnects` bounds the idle connections it keeps."""

    def __init__(self, maxconnects: int) -> None:
        m = self._multi = pycurl.CurlMulti()
        # Idle connections kept for reuse: as many as there are transfers (libcurl's default,
        # 4x the handles, could hold more files open than the open-file limit allows).
        m.setopt(pycurl.M_MAXCONNECTS, maxconnects)
        self.add_handle: Any = m.add_handle
        self.remove_handle: Any = m.remove_handle
        self.timeout: Any = m.timeout  # ms until libcurl's next deadline, -1 for none
        self.select: Any = m.select
        # (queued, [done handles], [(handle, curl error code, message)])
        self.info_read: Any = m.info_read

    def perform(self) -> None:
        """Let libcurl move every transfer: connect, send, read what has arrived."""
        perform = self._multi.perform
        while perform()[0] == _AGAIN:
            pass

    def close(self) -> None:
        self._multi.close()
