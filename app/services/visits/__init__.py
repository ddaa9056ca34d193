"""Visits: check-in and check-out, late and unfinished visit alerts, the visit report, checklists per
service, and the sitters an owner does not want sent to a client again."""
