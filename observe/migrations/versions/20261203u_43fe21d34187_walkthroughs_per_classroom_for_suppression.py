"""walkthroughs per classroom and month, so reports show no group or month of too few classrooms

The new rollup is empty: the rollups are marked unbuilt, so the next report counts them afresh
(all three tables) instead of reading no classrooms and hiding everything.

Revision ID: 43fe21d34187
Revises: c0e7a9e5b1d2
Created: 2026-12-03 13:30:05
"""

from alembic import op
import sqlalchemy as sa


revision = '43fe21d34187'
down_revision = 'c0e7a9e5b1d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_classroom',
    sa.Column('rubric_version_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('classroom', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('rubric_version_id', 'month', 'classroom', name=op.f('pk_rollup_classroom'))
    )
    op.execute("DELETE FROM rollup_state")


def downgrade() -> None:
    op.drop_table('rollup_classroom')
