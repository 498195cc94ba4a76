"""user language: the language a person reads observe in; empty follows the browser

Revision ID: 7e4c2b9d1a60
Revises: 5d1c9a7e3b20
Created: 2026-12-03 17:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '7e4c2b9d1a60'
down_revision = '5d1c9a7e3b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('language')
