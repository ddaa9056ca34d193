"""What every admin view shares: who may see it, the acting user, paging args."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from app.blueprints.admin.forms import options
from app.blueprints.auth.routes import role_required

owner_or_staff = role_required("owner", "staff")
owner_only = role_required("owner")


def actor() -> str:
    return f"user:{current_user.id}"


def org():
    return current_user.org


def page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


def sitter_choices(sitters, empty_label: str = "— none —"):
    return options([(0, empty_label)] + [(s.id, s.name) for s in sitters])
