"""Escalation: which answers are negative (rules) and what happens then (actions)."""
