"""consent ledger, provider deletions, client time zone and erasure, org compliance settings

Revision ID: 0011_consent
Revises: 0005_bounds
Create Date: 2026-12-07 01:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_consent'
down_revision = '0011_sitterdoor'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'consent_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('phone_hash', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('method', sa.String(length=32), nullable=False),
        sa.Column('wording', sa.Text(), nullable=True),
        sa.Column('wording_version', sa.Integer(), nullable=True),
        sa.Column('zone', sa.String(length=64), nullable=True),
        sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('granted', 'revoked')", name=op.f('ck_consent_events_kind')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_consent_events_client_id_clients'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_consent_events_message_id_messages'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_consent_events_org_id_orgs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'],
                                name=op.f('fk_consent_events_recorded_by_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events')),
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index('ix_consent_events_client', ['client_id', 'created_at'], unique=False)
        batch_op.create_index('ix_consent_events_org_phone', ['org_id', 'phone_hash', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_org_id'), ['org_id'], unique=False)

    op.create_table(
        'provider_deletions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=True),
        sa.Column('provider_sid', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.String(length=300), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'deleted', 'failed')", name=op.f('ck_provider_deletions_status')),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id'],
                                name=op.f('fk_provider_deletions_client_id_clients'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['org_id'], ['orgs.id'], name=op.f('fk_provider_deletions_org_id_orgs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_deletions')),
        sa.UniqueConstraint('provider_sid', name=op.f('uq_provider_deletions_provider_sid')),
    )
    with op.batch_alter_table('provider_deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_deletions_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_deletions_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_provider_deletions_status_id', ['status', 'id'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('support_contact', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('consent_wording', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('consent_wording_version', sa.Integer(), server_default=sa.text('1'),
                                      nullable=False))
        batch_op.add_column(sa.Column('messaging_service_sid', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), server_default=sa.text('730'),
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_orgs_retention_days'), 'retention_days >= 30')


def downgrade():
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orgs_retention_days'), type_='check')
        batch_op.drop_column('retention_days')
        batch_op.drop_column('messaging_service_sid')
        batch_op.drop_column('consent_wording_version')
        batch_op.drop_column('consent_wording')
        batch_op.drop_column('support_contact')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('timezone')
    op.drop_table('provider_deletions')
    op.drop_table('consent_events')
