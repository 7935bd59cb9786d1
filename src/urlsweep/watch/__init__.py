"""`urlsweep watch`: check the same inputs again and again, report changes, serve a live page.

The pieces stand apart so each can be tested alone: `schedule` (which URLs a round checks),
`changes` (a change is confirmed over --fail-after rounds), `state` (the watch's own tables
beside the results store), `board` (what the page and /metrics show), `sinks` (where events
go), `server` (the HTTP status server), `runner` (the loop that ties them together).
"""
