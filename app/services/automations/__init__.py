"""Automated texts: runs, templates, settings, and the thread they leave from."""
