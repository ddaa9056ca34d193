"""office_notes.booking_id: the visit a sitter's note to the office is about (issue 29)

A note sent from a visit whose conversation waits for a number has no thread the sitter may name,
so the note links the booking (and its thread when there is one) for the office to open. A batch on
SQLite rebuilds office_notes, which no other table references.

Revision ID: 0014_notebooking
Revises: 0014_alertpush
Create Date: 2026-12-07 08:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_notebooking'
down_revision = '0014_alertpush'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('office_notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_office_notes_booking_id'), ['booking_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_office_notes_booking_id_bookings'), 'bookings', ['booking_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('office_notes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_office_notes_booking_id_bookings'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_office_notes_booking_id'))
        batch_op.drop_column('booking_id')
