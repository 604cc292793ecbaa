"""Console pages of the channels app (mailboxes.py: mailbox configuration, the mail log, emails)."""
