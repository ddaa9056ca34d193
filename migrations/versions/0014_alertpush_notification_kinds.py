"""alertpush: notification kinds visit_concern and new_sitter_needed (pushes to the office for a
client's worried reply to a visit report, and for a sitter marked not to be sent to a client who
still has visits with them)

Revision ID: 0014_alertpush
Revises: 0013_oncesend
Create Date: 2026-12-07 08:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_alertpush'
down_revision = '0013_oncesend'
branch_labels = None
depends_on = None

NEW_KINDS = ('visit_concern', 'new_sitter_needed')


def _notification_kinds() -> tuple:
    # The kinds the code declares when this runs, so a branch merged beside this one that adds
    # kinds of its own keeps them whichever migration runs last.
    from app.models.notifications import NOTIFICATION_KINDS

    return tuple(NOTIFICATION_KINDS)


def _kind_check(kinds) -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind'),
                                         "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")")


def upgrade():
    _kind_check(_notification_kinds())


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind IN ('visit_concern', 'new_sitter_needed')")
    _kind_check(k for k in _notification_kinds() if k not in NEW_KINDS)
