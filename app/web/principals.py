"""One principal type per request: an org `User` or an `Operator`, never one read as the other.

Operators run the deployment and belong to no org; their row ids share nothing with user
ids, so a view that passed `current_user.id` to a service loading a `User` let operator 1
act as the org user 1. Every route that serves org data takes the logged-in principal
through `org_user_required` (operators get 404, as if the page did not exist) and hands
the `User` itself to the service.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.models import User


def principal_kind(principal) -> str:
    """'org_user' or 'operator': the kind a login session carries."""
    return "org_user" if isinstance(principal, User) else "operator"


def current_org_user() -> User:
    """The logged-in org user of this request; 404 for an operator (or anything else)."""
    principal = current_user._get_current_object()
    if not isinstance(principal, User):
        abort(404)
    return principal


def org_user_required(view):
    """Decorator: log in first; an operator's session gets 404."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        current_org_user()
        return view(*args, **kwargs)

    return wrapped
