"""Database plumbing below the domain: locks, SQLite setup, connection pings."""
