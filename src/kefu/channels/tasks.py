"""Background jobs for channels."""
