"""Log a test client in through a real server-side login session (what /login does, minus the form)."""

from __future__ import annotations


def log_in(client, principal):
    """The client now carries a session cookie for a new login session of this user or operator."""
    from app.services.accounts.sessions import start_session

    started = start_session(principal, remember=False, user_agent="pytest")
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = started.token
        session["_fresh"] = True
    return client
