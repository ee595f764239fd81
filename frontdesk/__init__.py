"""Frontdesk: a keyboard-first terminal front desk for appointment businesses."""

__version__ = "0.1.0"
