"""Migration 0012_consent2: orgs made before the 8 p.m. default get it, unless an owner chose theirs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from app.extensions import db
from app.models import Org

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0012_consent2_front_desk_quiet.py"


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0012_consent2", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_old_default_orgs_get_8_pm_and_set_values_stay(make):
    untouched = make.org(name="Made in 2025")
    chosen = make.org(name="Owner chose 9 p.m.")
    custom = make.org(name="Owner chose 10 p.m. to 7 a.m.")
    for org, hours in ((untouched, (21, 8)), (chosen, (21, 8)), (custom, (22, 7))):
        org.quiet_start_hour, org.quiet_end_hour = hours
    make.event("settings.changed", org=chosen, payload={"quiet_start_hour": 21})  # 22 → 21 by the owner
    make.event("settings.changed", org=untouched, payload={"name": "Made in 2025"})  # other settings only
    db.session.commit()

    given = _migration().give_default_quiet_hours(db.session.connection())
    db.session.commit()

    assert given == [untouched.id]
    db.session.expire_all()
    assert [(db.session.get(Org, o.id).quiet_start_hour, db.session.get(Org, o.id).quiet_end_hour)
            for o in (untouched, chosen, custom)] == [(20, 8), (21, 8), (22, 7)]


def test_new_orgs_start_with_8_pm_to_8_am_and_front_desk_only_off(make):
    org = make.org(name="New")
    db.session.commit()
    assert (org.quiet_start_hour, org.quiet_end_hour, org.front_desk_only) == (20, 8, False)
