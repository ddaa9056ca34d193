"""What an operator sees of a running Pawline: metrics, structured logs, error reports.

Lowest layer: imported by services (to count), by jobs (to tag log lines with the job id)
and by the app factory (to install it all). Nothing here reads the database.
"""
