"""Loopback servers and helpers shared by the tests, one module per server kind."""
