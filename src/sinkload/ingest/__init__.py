"""Loaders that write schema raw."""
