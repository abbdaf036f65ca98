"""entrepot: measure what an embargo did to trade, where the trade went, and what it cost."""

__version__ = "0.1.0"
