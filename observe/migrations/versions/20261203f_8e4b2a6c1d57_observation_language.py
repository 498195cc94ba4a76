"""observation.language: the language the observer's app showed the rubric in

Revision ID: 8e4b2a6c1d57
Revises: 7e4c2b9d1a60
Created: 2026-12-03 17:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '8e4b2a6c1d57'
down_revision = '7e4c2b9d1a60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: walkthroughs recorded before the app said its language showed the
    # rubric's default text, which NULL means.
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_column('language')
