"""messages.send_key: the compose form's idempotency key, unique per thread (issue 29)

A sitter's Retry after a lost answer sends the same key; the message it already made answers
instead of a second text. Plain ADD COLUMN and CREATE UNIQUE INDEX, no batch: on SQLite a batch
would rebuild `messages`, and dropping the old table cascades to its media rows while foreign
keys are on. NULL keys (every existing row, every message not from the compose form) never collide.

Revision ID: 0013_oncesend
Revises: 0012_consent2
Create Date: 2026-12-07 05:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_oncesend'
down_revision = '0012_consent2'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('messages', sa.Column('send_key', sa.String(length=64), nullable=True))
    op.create_index('ux_messages_thread_send_key', 'messages', ['thread_id', 'send_key'], unique=True)


def downgrade():
    op.drop_index('ux_messages_thread_send_key', table_name='messages')
    op.drop_column('messages', 'send_key')
