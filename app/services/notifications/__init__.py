"""Telling people without a page open: Web Push and SMS pings."""
