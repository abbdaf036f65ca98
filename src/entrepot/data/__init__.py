"""Data shipped with entrepot: the freight table, EUR/USD rates, case files and synthetic-world scenarios."""
