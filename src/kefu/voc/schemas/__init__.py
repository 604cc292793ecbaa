"""Ninja schemas of the voice-of-customer API, one module per resource."""
