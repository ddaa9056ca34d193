"""Read models behind pages: lists, dashboards, calendars, queue health, confirm-step words."""
