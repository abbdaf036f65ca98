"""The shipped case files."""
