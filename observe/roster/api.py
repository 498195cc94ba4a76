"""Roster routes of the JSON API."""
