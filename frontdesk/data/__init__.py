"""Storage and rules of Frontdesk. This package never imports the terminal interface."""
