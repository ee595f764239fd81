"""Screens and modals of the Frontdesk terminal app. They call frontdesk.data, never SQL."""
