"""Logins, passwords, sessions and login throttling."""
