"""rollup_classroom: a partial index on the walkthrough-count rows, for counting classrooms

Revision ID: 3c9e1f7b2d40
Revises: 8e4b2a6c1d57
Created: 2026-12-04 02:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '3c9e1f7b2d40'
down_revision = '8e4b2a6c1d57'
branch_labels = None
depends_on = None

COLUMNS = ['rubric_version_id', 'month', 'school_id', 'profile', 'classroom_id', 'count']


def upgrade() -> None:
    # The summary counts distinct classrooms per group and month from these rows alone; without
    # the index it read every level of every look-for (3.6 million rows at district scale).
    op.create_index(
        'ix_rollup_classroom_visits', 'rollup_classroom', COLUMNS, unique=False,
        sqlite_where=sa.text('criterion_id = 0'), postgresql_where=sa.text('criterion_id = 0'),
    )


def downgrade() -> None:
    op.drop_index('ix_rollup_classroom_visits', table_name='rollup_classroom')
