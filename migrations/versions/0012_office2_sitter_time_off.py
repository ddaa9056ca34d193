"""sitter_time_off: the days a sitter is away (issue 30); the calendar greys them and assigning
the sitter a visit on one of them warns in the confirm step

Revision ID: 0012_office2
Revises: 0011_walls
Create Date: 2026-12-07 04:33:54.502711

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012_office2'
down_revision = '0012_visits2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sitter_time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sitter_id', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('last_day >= first_day', name=op.f('ck_sitter_time_off_last_after_first')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_sitter_time_off_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_sitter_time_off_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sitter_id'], ['sitters.id'], name=op.f('fk_sitter_time_off_sitter_id_sitters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sitter_time_off'))
    )
    with op.batch_alter_table('sitter_time_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sitter_time_off_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_sitter_time_off_sitter_days', ['sitter_id', 'first_day', 'last_day'], unique=False)



def downgrade():
    with op.batch_alter_table('sitter_time_off', schema=None) as batch_op:
        batch_op.drop_index('ix_sitter_time_off_sitter_days')
        batch_op.drop_index(batch_op.f('ix_sitter_time_off_org_id'))

    op.drop_table('sitter_time_off')
