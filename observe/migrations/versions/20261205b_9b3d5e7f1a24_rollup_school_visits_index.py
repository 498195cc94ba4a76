"""rollup_school: a partial index on the walkthrough-count rows, for counting walkthroughs

Revision ID: 9b3d5e7f1a24
Revises: 6a2d4f8c1e93
Created: 2026-12-04 12:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '9b3d5e7f1a24'
down_revision = '6a2d4f8c1e93'
branch_labels = None
depends_on = None

COLUMNS = ['rubric_version_id', 'school_id', 'month', 'count']


def upgrade() -> None:
    # Every summary asks how many walkthroughs each rubric has (the version it opens on) and
    # the rater fit how many its version has; without the index both read every look-for's
    # levels (2.7 million rows in a consortium of 1,600 schools) to sum a few thousand.
    op.create_index(
        'ix_rollup_school_visits', 'rollup_school', COLUMNS, unique=False,
        sqlite_where=sa.text('criterion_id = 0'), postgresql_where=sa.text('criterion_id = 0'),
    )


def downgrade() -> None:
    op.drop_index('ix_rollup_school_visits', table_name='rollup_school')
