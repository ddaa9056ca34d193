"""throttle_counts: the login throttle's database counter when Redis is down (issue 31)

Revision ID: 0011_walls
Revises: 0005_bounds
Create Date: 2026-12-07 02:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_walls'
down_revision = '0011_visits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'throttle_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_counts')),
        sa.UniqueConstraint('scope', 'key_hash', 'window_start', name=op.f('uq_throttle_counts_scope_key_hash_window_start')),
    )
    with op.batch_alter_table('throttle_counts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counts_window_start'), ['window_start'], unique=False)


def downgrade():
    with op.batch_alter_table('throttle_counts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counts_window_start'))
    op.drop_table('throttle_counts')
