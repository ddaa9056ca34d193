"""stripe events keep their verified payload: the webhook stores, a job applies

Revision ID: 0004_stripe
Revises: 0004_accounts
Create Date: 2026-11-28 20:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004_stripe'
down_revision = '0004_accounts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stripe_created', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('payment_intent', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_stripe_events_status_created', ['status', 'stripe_created'], unique=False)
        batch_op.create_index(batch_op.f('ix_stripe_events_payment_intent'), ['payment_intent'], unique=False)


def downgrade():
    with op.batch_alter_table('stripe_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stripe_events_payment_intent'))
        batch_op.drop_index('ix_stripe_events_status_created')
        batch_op.drop_column('payment_intent')
        batch_op.drop_column('stripe_created')
        batch_op.drop_column('payload')
