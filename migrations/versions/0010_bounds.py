"""bounded tries: messages.tries counts the send job's tries (app.jobs.tries)

Revision ID: 0005_bounds
Revises: 0004_photos
Create Date: 2026-11-28 21:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_bounds'
down_revision = '0004_photos'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tries', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('tries')
