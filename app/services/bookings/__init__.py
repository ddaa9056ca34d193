"""Bookings: confirmation, editing, lifecycle, their threads and windows."""
