"""The results store (SQLite): schema, the recorder written as results arrive, and reuse of
earlier results (resume, cache, --fail-after).
"""
