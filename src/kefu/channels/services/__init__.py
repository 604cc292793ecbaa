"""Every write for channels goes through these services."""
