"""school years and terms (academic sessions); a closed year's goals keep their result

Revision ID: 81e10adf521f
Revises: 9bcca01afaa3
Created: 2026-12-03 13:32:24.258797
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models
from sqlalchemy.dialects import postgresql

revision = '81e10adf521f'
down_revision = '9bcca01afaa3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('academic_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sourced_id', sa.String(length=128), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['academic_session.id'], name=op.f('fk_academic_session_parent_id_academic_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academic_session')),
    sa.UniqueConstraint('sourced_id', name=op.f('uq_academic_session_sourced_id'))
    )
    with op.batch_alter_table('academic_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_academic_session_parent_id'), ['parent_id'], unique=False)

    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', observe.core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('final', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('carried_from_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_goal_carried_from_id'), ['carried_from_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_goal_carried_from_id_goal'), 'goal', ['carried_from_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_goal_carried_from_id_goal'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_goal_carried_from_id'))
        batch_op.drop_column('carried_from_id')
        batch_op.drop_column('final')
        batch_op.drop_column('closed_at')

    with op.batch_alter_table('academic_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_academic_session_parent_id'))

    op.drop_table('academic_session')
