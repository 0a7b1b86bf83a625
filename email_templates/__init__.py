"""Jinja2 templates for survey emails and web pages, shipped as package data."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
