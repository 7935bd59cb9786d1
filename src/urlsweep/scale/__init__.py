"""Past one core and one machine: worker processes (`local`) and a Dask cluster (`dask`),
fed with URLs grouped by host.
"""
