"""calibration sessions: blind scoring of one lesson, the reveal, consensus scores

Revision ID: ad2b3edc461c
Revises: 67e562d40913
Created: 2026-11-30 16:05:56.537031
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models
from sqlalchemy.dialects import postgresql

revision = 'ad2b3edc461c'
down_revision = '67e562d40913'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calibration_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=120), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=True),
    sa.Column('lesson_reference', sa.String(length=500), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('facilitator_id', sa.Integer(), nullable=False),
    sa.Column('anchor_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('scoring', 'revealed', name='calibration_state'), nullable=False),
    sa.Column('revealed_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.Column('revealed_by_id', sa.Integer(), nullable=True),
    sa.Column('reveal_record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['anchor_id'], ['user.id'], name=op.f('fk_calibration_session_anchor_id_user')),
    sa.ForeignKeyConstraint(['classroom_id'], ['classroom.id'], name=op.f('fk_calibration_session_classroom_id_classroom')),
    sa.ForeignKeyConstraint(['facilitator_id'], ['user.id'], name=op.f('fk_calibration_session_facilitator_id_user')),
    sa.ForeignKeyConstraint(['revealed_by_id'], ['user.id'], name=op.f('fk_calibration_session_revealed_by_id_user')),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_calibration_session_rubric_version_id_rubric_version')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_calibration_session_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_session'))
    )
    with op.batch_alter_table('calibration_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_session_team'), ['team'], unique=False)

    op.create_table('calibration_participant',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['calibration_session.id'], name=op.f('fk_calibration_participant_session_id_calibration_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calibration_participant_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_calibration_participant'))
    )
    with op.batch_alter_table('calibration_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_participant_user_id'), ['user_id'], unique=False)

    op.create_table('consensus_score',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('not_observed', sa.Boolean(), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_consensus_score_criterion_id_criterion')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_consensus_score_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['session_id'], ['calibration_session.id'], name=op.f('fk_consensus_score_session_id_calibration_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'criterion_id', name=op.f('pk_consensus_score'))
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calibration_session_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_observation_calibration_session_id'), ['calibration_session_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_observation_calibration_session_id_calibration_session'), 'calibration_session', ['calibration_session_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_observation_calibration_session_id_calibration_session'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_observation_calibration_session_id'))
        batch_op.drop_column('calibration_session_id')

    op.drop_table('consensus_score')
    with op.batch_alter_table('calibration_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_participant_user_id'))

    op.drop_table('calibration_participant')
    with op.batch_alter_table('calibration_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_session_team'))

    op.drop_table('calibration_session')
    # PostgreSQL keeps an enum type after its table is dropped.
    sa.Enum(name='calibration_state').drop(op.get_bind(), checkfirst=True)
