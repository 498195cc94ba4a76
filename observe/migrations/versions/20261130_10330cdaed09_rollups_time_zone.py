"""rollups remember the time zone whose months they count

Revision ID: 10330cdaed09
Revises: 2d2fa6592457
Created: 2026-11-30 18:56:09.914165
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '10330cdaed09'
down_revision = '2d2fa6592457'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rollup_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('rollup_state', schema=None) as batch_op:
        batch_op.drop_column('timezone')
