"""Structural gravity: PPML estimation (pyfixest) and general-equilibrium counterfactuals (GEPPML)."""
