"""index assignment windows by sitter and end time (sitter dashboard at scale)

Revision ID: 0003_bench_window_ends
Revises: 0002_sitter_thread_reads
Create Date: 2026-11-25 17:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003_bench_window_ends'
down_revision = '0002_sitter_thread_reads'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment_windows', schema=None) as batch_op:
        batch_op.create_index('ix_windows_sitter_ends', ['sitter_id', 'ends_at', 'starts_at'], unique=False)


def downgrade():
    with op.batch_alter_table('assignment_windows', schema=None) as batch_op:
        batch_op.drop_index('ix_windows_sitter_ends')
