"""schools merged into others: `observe roster merge` keeps the old school's id, so drafts
tablets still hold for it are accepted into the school it became

Revision ID: 9bcca01afaa3
Revises: c0e7a9e5b1d2
Created: 2026-12-03 13:28:07
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '9bcca01afaa3'
down_revision = 'c0e7a9e5b1d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'school_merge',
        sa.Column('old_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('old_code', sa.String(length=64), nullable=False),
        sa.Column('old_name', sa.String(length=200), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('merged_at', observe.core.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['school_id'], ['school.id'], name=op.f('fk_school_merge_school_id_school')
        ),
        sa.PrimaryKeyConstraint('old_id', name=op.f('pk_school_merge')),
    )
    op.create_index(op.f('ix_school_merge_school_id'), 'school_merge', ['school_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_school_merge_school_id'), table_name='school_merge')
    op.drop_table('school_merge')
