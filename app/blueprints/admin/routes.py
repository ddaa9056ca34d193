"""Admin pages."""

from __future__ import annotations

from flask import render_template

from app.blueprints.admin import bp
from app.blueprints.auth.routes import role_required


@bp.route("")
@role_required("owner", "staff")
def home():
    return render_template("admin/home.html")
