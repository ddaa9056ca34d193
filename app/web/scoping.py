"""Org scoping: while a user's request runs, every ORM query sees only their org.

The filter is added to each SELECT by SQLAlchemy's `with_loader_criteria`, so a
view that forgets `org_id == …` still cannot load another org's rows; `get_in_org_or_404`
also checks rows that the session already holds.
"""

from __future__ import annotations

from flask import Flask, abort, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.extensions import db
from app.models import OrgScoped

_installed = False


def current_org_id() -> int | None:
    return g.get("scoped_org_id") if has_app_context() else None


def scope_to_org(org_id: int | None) -> None:
    g.scoped_org_id = org_id


def _add_org_criteria(state: ORMExecuteState) -> None:
    org_id = current_org_id()
    if org_id is None or not state.is_select or state.is_column_load:
        return
    if state.execution_options.get("all_orgs"):
        return
    state.statement = state.statement.options(
        with_loader_criteria(OrgScoped, lambda cls: cls.org_id == org_id, include_aliases=True)
    )


def install_org_scoping(app: Flask) -> None:
    global _installed
    if not _installed:  # Session-class listeners are process-wide: add once
        event.listen(Session, "do_orm_execute", _add_org_criteria)
        _installed = True

    @app.before_request
    def _scope_request_to_user_org() -> None:
        from flask_login import current_user

        from app.web.lean_requests import is_lean_request

        # A request may run inside an outer app context (tests, CLI): never inherit
        # the user or the scope a previous request left in `g`.
        g.pop("_login_user", None)
        if is_lean_request():  # a signed webhook has no login: unscoped, without loading one
            scope_to_org(None)
            return
        scope_to_org(current_user.org_id if current_user.is_authenticated else None)

    @app.teardown_request
    def _unscope(_exc) -> None:
        g.pop("scoped_org_id", None)


def get_in_org_or_404(model, ident: int, org_id: int | None = None):
    """Load a row by id only if it belongs to the current org; 404 otherwise."""
    org_id = org_id if org_id is not None else current_org_id()
    row = db.session.get(model, ident)
    if row is None or org_id is None or row.org_id != org_id:
        abort(404)
    return row
