"""orgs.quick_replies: the sitter's quick replies, edited by owners (issue 29)

Revision ID: 0012_door1
Revises: 0011_walls
Create Date: 2026-12-07 04:55:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_door1'
down_revision = '0012_office2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quick_replies', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.drop_column('quick_replies')
