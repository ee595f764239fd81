"""Reusable widgets (customer picker ...)."""
