"""equity goals: a share at or above a level, for a look-for, competency or dimension, by a deadline

Revision ID: 2e21a66ff45f
Revises: ddc1be55f5da
Created: 2026-11-30 17:24:03.898604
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '2e21a66ff45f'
down_revision = 'ddc1be55f5da'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('target_kind', sa.String(length=20), nullable=False),
    sa.Column('target_key', sa.String(length=100), nullable=False),
    sa.Column('at_least', sa.Integer(), nullable=False),
    sa.Column('target_share', sa.Double(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_goal_created_by_id_user')),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_goal_rubric_version_id_rubric_version')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_goal_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal'))
    )
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goal_school_id'), ['school_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goal_school_id'))

    op.drop_table('goal')
