"""Analyses over the store. Each takes a `Store` and plain arguments and returns a typed result."""
