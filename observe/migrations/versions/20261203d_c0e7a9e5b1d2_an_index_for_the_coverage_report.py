"""an index for the coverage report: a period's visits per classroom, counted from the index alone

Revision ID: c0e7a9e5b1d2
Revises: 7c3f1a2b9d40
Created: 2026-12-03 11:00:00
"""

from alembic import op


revision = 'c0e7a9e5b1d2'
down_revision = '7c3f1a2b9d40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_observation_visits',
        'observation',
        ['observed_at', 'classroom_id', 'school_id', 'state', 'deleted_at',
         'calibration_session_id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_observation_visits', table_name='observation')
