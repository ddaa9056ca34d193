"""numbers: calls, out-of-window replies, line settings on orgs; a thread may wait without a number

Revision ID: 0011_numbers
Revises: 0005_bounds
Create Date: 2026-12-07 01:50:15.708444

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_numbers'
down_revision = '0005_bounds'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=True),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('message_number_id', sa.Integer(), nullable=True),
    sa.Column('sitter_id', sa.Integer(), nullable=True),
    sa.Column('from_e164', sa.String(length=32), nullable=True),
    sa.Column('to_e164', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f('ck_calls_direction')),
    sa.CheckConstraint("outcome IN ('ringing_sitter', 'office', 'message', 'refused', 'completed', 'no-answer', 'busy', 'failed', 'canceled')", name=op.f('ck_calls_outcome')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_calls_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_number_id'], ['message_numbers.id'], name=op.f('fk_calls_message_number_id_message_numbers')),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_calls_org_id_orgs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sitter_id'], ['sitters.id'], name=op.f('fk_calls_sitter_id_sitters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_calls_thread_id_threads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_calls_provider_sid'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_calls_thread_created', ['thread_id', 'created_at'], unique=False)

    op.create_table('out_of_window_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_out_of_window_replies_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_out_of_window_replies_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_out_of_window_replies_org_id_orgs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_out_of_window_replies')),
    sa.UniqueConstraint('client_id', 'day', name=op.f('uq_out_of_window_replies_client_id_day'))
    )
    with op.batch_alter_table('out_of_window_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_out_of_window_replies_org_id'), ['org_id'], unique=False)

    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_phone_e164', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('out_of_window_reply_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('number_cooloff_days', sa.Integer(), server_default=sa.text('7'), nullable=False))
        batch_op.create_check_constraint(op.f('ck_orgs_number_cooloff_days'), 'number_cooloff_days BETWEEN 0 AND 90')

    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.alter_column('message_number_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade():
    with op.batch_alter_table('threads', schema=None) as batch_op:
        batch_op.alter_column('message_number_id',
               existing_type=sa.INTEGER(),
               nullable=False)

    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orgs_number_cooloff_days'), type_='check')
        batch_op.drop_column('number_cooloff_days')
        batch_op.drop_column('out_of_window_reply_enabled')
        batch_op.drop_column('office_phone_e164')

    with op.batch_alter_table('out_of_window_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_out_of_window_replies_org_id'))

    op.drop_table('out_of_window_replies')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_thread_created')
        batch_op.drop_index(batch_op.f('ix_calls_org_id'))

    op.drop_table('calls')
