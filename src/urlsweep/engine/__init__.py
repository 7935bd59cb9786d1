"""Where many checks run at once: the pipeline (feeder -> scheduler -> driver -> caller),
per-host limits, dedup and live counters. Threads and queues live here.
"""
