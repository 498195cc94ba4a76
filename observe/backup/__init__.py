"""Backups: the whole database as one portable archive, and back (see docs/backup.md)."""
