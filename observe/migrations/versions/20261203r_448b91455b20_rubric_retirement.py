"""rubric retirement: a version the district retired is no longer offered for new walkthroughs

Revision ID: 448b91455b20
Revises: 81e10adf521f
Created: 2026-12-03 13:32:09.992398
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '448b91455b20'
down_revision = '81e10adf521f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rubric_retirement',
    sa.Column('rubric_version_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('retired_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('retired_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['retired_by_id'], ['user.id'], name=op.f('fk_rubric_retirement_retired_by_id_user')),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_rubric_retirement_rubric_version_id_rubric_version')),
    sa.PrimaryKeyConstraint('rubric_version_id', name=op.f('pk_rubric_retirement'))
    )


def downgrade() -> None:
    op.drop_table('rubric_retirement')
