"""required look-fors: a rubric file may mark a look-for required

Revision ID: 7c3f1a2b9d40
Revises: f9a9ecafe052
Created: 2026-12-03 10:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '7c3f1a2b9d40'
down_revision = 'f9a9ecafe052'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every version stored before is as its file said: nothing required.
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('required', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_column('required')
