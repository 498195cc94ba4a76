"""The audit log: who did what to which record, and who read teacher-level data."""
