"""front-desk-only mode; quiet hours 8 p.m.-8 a.m. for orgs that never chose theirs (issue 25)

Orgs created before issue 25 got the old default, 9 p.m.-8 a.m., which no owner chose: they get
the new default (8 p.m., the Florida and Oklahoma rule), as new orgs do. An org whose audit log
shows an owner changing its quiet hours keeps what they set.

Plain ADD COLUMN, no batch: on SQLite a batch would rebuild `orgs`, and dropping the old table
cascades to every org's rows while foreign keys are on.

Revision ID: 0012_consent2
Revises: 0011_walls
Create Date: 2026-12-07 04:40:00

"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_consent2'
down_revision = '0012_door1'
branch_labels = None
depends_on = None

OLD_DEFAULT_START, NEW_DEFAULT_START, DEFAULT_END = 21, 20, 8


def _owner_set_quiet_hours(conn, org_id: int) -> bool:
    """Whether the org's audit log records an owner changing its quiet hours."""
    payloads = conn.execute(sa.text("SELECT payload FROM event_logs WHERE org_id = :org_id "
                                    "AND kind = 'settings.changed'"), {"org_id": org_id}).scalars()
    for payload in payloads:
        if isinstance(payload, str):  # SQLite hands back JSON as text
            try:
                payload = json.loads(payload)
            except ValueError:
                continue
        if isinstance(payload, dict) and ({"quiet_start_hour", "quiet_end_hour"} & payload.keys()):
            return True
    return False


def give_default_quiet_hours(conn) -> list[int]:
    """Orgs still on the old default that no owner changed get the new one; returns their ids."""
    old_default = conn.execute(sa.text("SELECT id FROM orgs WHERE quiet_start_hour = :start AND quiet_end_hour = :end"),
                               {"start": OLD_DEFAULT_START, "end": DEFAULT_END}).scalars().all()
    given = [org_id for org_id in old_default if not _owner_set_quiet_hours(conn, org_id)]
    for org_id in given:
        conn.execute(sa.text("UPDATE orgs SET quiet_start_hour = :start WHERE id = :id"),
                     {"start": NEW_DEFAULT_START, "id": org_id})
    return given


def upgrade():
    op.add_column('orgs', sa.Column('front_desk_only', sa.Boolean(), server_default=sa.false(), nullable=False))
    give_default_quiet_hours(op.get_bind())


def downgrade():
    # The quiet hours stay as they are: which orgs had the old default is not kept.
    op.drop_column('orgs', 'front_desk_only')
