"""nothing lost: `unknown` message status, reconcile indexes, stored status callbacks

Revision ID: 0004_lost
Revises: 0004_stripe
Create Date: 2026-11-28 20:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_lost'
down_revision = '0004_stripe'
branch_labels = None
depends_on = None

OLD_STATUSES = "'received', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'blocked'"


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN ({OLD_STATUSES}, 'unknown')")
        batch_op.create_index('ix_messages_status_id', ['status', 'id'], unique=False)
    with op.batch_alter_table('automation_runs', schema=None) as batch_op:
        batch_op.create_index('ix_automation_runs_status_id', ['status', 'id'], unique=False)
    op.create_table(
        'status_callbacks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_sid', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error_code', sa.String(length=16), nullable=True),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'applied', 'unmatched')", name=op.f('ck_status_callbacks_state')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_status_callbacks')),
    )
    with op.batch_alter_table('status_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_status_callbacks_pending', ['state', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_status_callbacks_provider_sid'), ['provider_sid'], unique=False)


def downgrade():
    with op.batch_alter_table('status_callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_callbacks_provider_sid'))
        batch_op.drop_index('ix_status_callbacks_pending')
    op.drop_table('status_callbacks')
    with op.batch_alter_table('automation_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_automation_runs_status_id')
    op.execute("UPDATE messages SET status = 'failed' WHERE status = 'unknown'")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_status_id')
        batch_op.drop_constraint(op.f('ck_messages_status'), type_='check')
        batch_op.create_check_constraint('status', f"status IN ({OLD_STATUSES})")
