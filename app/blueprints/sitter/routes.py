"""Sitter pages."""

from __future__ import annotations

from flask import render_template

from app.blueprints.auth.routes import role_required
from app.blueprints.sitter import bp


@bp.route("")
@role_required("sitter")
def dashboard():
    return render_template("sitter/dashboard.html")
