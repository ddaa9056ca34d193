"""booking series (bookings.series_id ties the occurrences of one repeat rule together) and
orgs.calendar_week_start (the week calendar starts today or on Monday) and the pet profile
columns on pets (breed, age, vet, emergency contact, medication, behaviour flags)

Revision ID: 0011_officeweek
Revises: 0005_bounds
Create Date: 2026-12-07 02:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_officeweek'
down_revision = '0011_numbers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('series_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_bookings_series_id'), ['series_id'], unique=False)
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_week_start', sa.String(length=8), server_default='today',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_orgs_calendar_week_start'),
                                         "calendar_week_start IN ('today', 'monday')")


    with op.batch_alter_table('pets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('breed', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('age_years', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vet_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('vet_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('emergency_contact', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('medication', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('behaviour_flags', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('pets', schema=None) as batch_op:
        for column in ('behaviour_flags', 'medication', 'emergency_contact', 'vet_phone', 'vet_name', 'age_years',
                       'breed'):
            batch_op.drop_column(column)
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orgs_calendar_week_start'), type_='check')
        batch_op.drop_column('calendar_week_start')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_series_id'))
        batch_op.drop_column('series_id')
