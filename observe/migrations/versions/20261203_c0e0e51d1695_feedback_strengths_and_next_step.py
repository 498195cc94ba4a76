"""feedback for the teacher: the observer's strengths and one next step on each walkthrough

Revision ID: c0e0e51d1695
Revises: 3c1f2a7b9e40
Created: 2026-12-03 10:15:23.327439

Both mirror the head version's fields (docs/sync.md); walkthroughs stored before them have
none, so they start empty.
"""

from alembic import op
import sqlalchemy as sa


revision = 'c0e0e51d1695'
down_revision = '3c1f2a7b9e40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('strengths', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('next_step', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_column('next_step')
        batch_op.drop_column('strengths')
