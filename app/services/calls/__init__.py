"""Calls through the masking numbers: who a client's call rings, and a sitter's click-to-call."""
