"""sitterdoor: notes between a sitter and the office (office_notes), notification kind office_reply

Revision ID: 0011_sitterdoor
Revises: 0005_bounds
Create Date: 2026-12-07 02:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_sitterdoor'
down_revision = '0011_officeweek'
branch_labels = None
depends_on = None

_KINDS = ("'client_text', 'visit_added', 'visit_changed', 'visit_removed', 'visit_cancelled', "
          "'window_opening', 'inbox_item'")


def upgrade():
    op.create_table(
        'office_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sitter_id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=10), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author_user_id', sa.Integer(), nullable=True),
        sa.Column('thread_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('to_office', 'to_sitter')", name=op.f('ck_office_notes_direction')),
        sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_office_notes_author_user_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_office_notes_message_id_messages'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_office_notes_org_id_orgs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sitter_id'], ['sitters.id'], name=op.f('fk_office_notes_sitter_id_sitters'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_office_notes_thread_id_threads'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_office_notes')),
    )
    with op.batch_alter_table('office_notes', schema=None) as batch_op:
        batch_op.create_index('ix_office_notes_sitter_created', ['sitter_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_office_notes_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_office_notes_org_id'), ['org_id'], unique=False)
    _notification_kinds(_KINDS + ", 'office_reply'")


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'office_reply'")
    _notification_kinds(_KINDS)
    with op.batch_alter_table('office_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_notes_org_id'))
        batch_op.drop_index(batch_op.f('ix_office_notes_message_id'))
        batch_op.drop_index('ix_office_notes_sitter_created')
    op.drop_table('office_notes')


def _notification_kinds(values: str) -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_kind'), f"kind IN ({values})")
