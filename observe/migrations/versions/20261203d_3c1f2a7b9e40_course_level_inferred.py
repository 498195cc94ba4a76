"""course_level_inferred: whether a classroom's course level was guessed from its title

Revision ID: 3c1f2a7b9e40
Revises: 8ed8ffd30a76
Created: 2026-12-03 11:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '3c1f2a7b9e40'
down_revision = '8ed8ffd30a76'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('classroom', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('course_level_inferred', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('classroom', schema=None) as batch_op:
        batch_op.drop_column('course_level_inferred')
