"""The `urlsweep` command line: the only user of click; commands, options, config-file loading,
progress bar, interrupts and the demo.
"""
