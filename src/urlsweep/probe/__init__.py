"""How one URL is checked: the steps of a check (HEAD/GET fallback, redirects), the libcurl
transport (the only pycurl user), address and scheme policy, retry decisions.
"""
