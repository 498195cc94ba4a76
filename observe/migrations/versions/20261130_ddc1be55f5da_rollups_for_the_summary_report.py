"""rollups for the summary report: counts per school and per classroom profile, kept current

Revision ID: ddc1be55f5da
Revises: 281e8e8628f7
Created: 2026-11-30 17:14:05.133469
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = 'ddc1be55f5da'
down_revision = '281e8e8628f7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rollup_profile',
    sa.Column('rubric_version_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('profile', sa.String(length=32), nullable=False),
    sa.Column('criterion_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('rubric_version_id', 'month', 'profile', 'criterion_id', 'level', name=op.f('pk_rollup_profile'))
    )
    op.create_table('rollup_school',
    sa.Column('rubric_version_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('school_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('criterion_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('rubric_version_id', 'month', 'school_id', 'criterion_id', 'level', name=op.f('pk_rollup_school'))
    )
    op.create_table('rollup_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('built_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_state'))
    )
    with op.batch_alter_table('classroom', schema=None) as batch_op:
        batch_op.add_column(sa.Column('profile', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_classroom_profile'), ['profile'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('classroom', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classroom_profile'))
        batch_op.drop_column('profile')

    op.drop_table('rollup_state')
    op.drop_table('rollup_school')
    op.drop_table('rollup_profile')
