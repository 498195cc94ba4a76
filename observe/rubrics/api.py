"""Rubric routes of the JSON API."""
