"""`urlsweep.dask.check`: the public name of the Dask path (scale/dask.py), kept at the root.

Importing it imports Dask; nothing else in urlsweep does until `--dask` is given.
"""

from urlsweep.scale.dask import DaskSource, check, connect, parse_address

__all__ = ["DaskSource", "check", "connect", "parse_address"]
