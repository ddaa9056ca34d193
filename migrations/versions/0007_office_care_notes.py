"""care notes per client and pet, and the org's lead time for showing them to the sitter

Revision ID: 0004_office
Revises: 0004_lost
Create Date: 2026-11-28 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004_office'
down_revision = '0004_lost'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'care_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('pet_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('body', sa.String(length=2000), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('entry', 'feeding', 'medication')", name=op.f('ck_care_notes_kind')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_care_notes_client_id_clients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_care_notes_org_id_orgs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['pet_id'], ['pets.id'], name=op.f('fk_care_notes_pet_id_pets'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_user_id'], ['users.id'],
                                name=op.f('fk_care_notes_updated_by_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_notes')),
    )
    with op.batch_alter_table('care_notes', schema=None) as batch_op:
        batch_op.create_index('ix_care_notes_client_kind', ['client_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_notes_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_notes_pet_id'), ['pet_id'], unique=False)
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('care_notes_lead_minutes', sa.Integer(), server_default=sa.text('60'),
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_orgs_care_notes_lead_minutes'),
                                         'care_notes_lead_minutes BETWEEN 0 AND 1440')


def downgrade():
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orgs_care_notes_lead_minutes'), type_='check')
        batch_op.drop_column('care_notes_lead_minutes')
    with op.batch_alter_table('care_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_notes_pet_id'))
        batch_op.drop_index(batch_op.f('ix_care_notes_org_id'))
        batch_op.drop_index('ix_care_notes_client_kind')
    op.drop_table('care_notes')
