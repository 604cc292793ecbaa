"""Background jobs for the knowledge base."""
