"""Mailflow: email-centric customer-satisfaction surveys, self-hosted."""

__version__ = "0.1.0"
