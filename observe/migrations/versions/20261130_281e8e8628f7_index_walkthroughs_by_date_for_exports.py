"""index walkthroughs by date for exports

Revision ID: 281e8e8628f7
Revises: ad2b3edc461c
Created: 2026-11-30 16:50:11.785709
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '281e8e8628f7'
down_revision = 'ad2b3edc461c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index('ix_observation_observed', ['observed_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_observed')

