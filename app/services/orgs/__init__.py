"""The org's own settings."""
