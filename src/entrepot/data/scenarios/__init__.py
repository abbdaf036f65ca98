"""The shipped synthetic-world scenarios."""
