"""rollup_stamp: a change counter per rubric version, month and school of the rollups,
and a token drawn by each build

Revision ID: 6a2d4f8c1e93
Revises: 3c9e1f7b2d40
Created: 2026-12-04 06:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '6a2d4f8c1e93'
down_revision = '3c9e1f7b2d40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_stamp',
    sa.Column('rubric_version_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('school_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('serial', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('rubric_version_id', 'month', 'school_id', name=op.f('pk_rollup_stamp'))
    )
    with op.batch_alter_table('rollup_state') as batch:
        batch.add_column(sa.Column('token', sa.String(length=32), server_default='',
                                   nullable=False))
    # Rollups built before the stamps existed are counted afresh by the next report, which
    # stamps them as it builds.
    op.execute("DELETE FROM rollup_state")


def downgrade() -> None:
    with op.batch_alter_table('rollup_state') as batch:
        batch.drop_column('token')
    op.drop_table('rollup_stamp')
