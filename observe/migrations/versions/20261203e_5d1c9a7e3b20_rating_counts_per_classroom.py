"""rating counts per classroom, for the summary's clustered intervals and gap tests

Revision ID: 5d1c9a7e3b20
Revises: 742318f075eb
Created: 2026-12-03 13:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '5d1c9a7e3b20'
down_revision = '742318f075eb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_classroom',
    sa.Column('rubric_version_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('school_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('classroom_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('criterion_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('rubric_version_id', 'month', 'school_id', 'profile',
                            'classroom_id', 'criterion_id', 'level', name=op.f('pk_rollup_classroom'))
    )
    # The new table starts empty while the others are full: forget that the rollups were built,
    # so the next report counts all three afresh.
    op.execute("DELETE FROM rollup_state")


def downgrade() -> None:
    op.drop_table('rollup_classroom')
