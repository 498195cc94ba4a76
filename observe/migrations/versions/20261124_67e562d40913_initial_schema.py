"""initial schema

Revision ID: 67e562d40913
Revises: (none)
Created: 2026-11-24 11:31:56.614014
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models
from sqlalchemy.dialects import postgresql

revision = '67e562d40913'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_counter',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_counter'))
    )
    op.create_table('rubric',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric')),
    sa.UniqueConstraint('key', name=op.f('uq_rubric_key'))
    )
    op.create_table('school',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=40), nullable=True),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('title_i', sa.Boolean(), nullable=True),
    sa.Column('updated_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school')),
    sa.UniqueConstraint('code', name=op.f('uq_school_code'))
    )
    op.create_table('teacher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teacher')),
    sa.UniqueConstraint('external_id', name=op.f('uq_teacher_external_id'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('observer', 'school-leader', 'district-admin', name='user_role'), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('change',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('observation_id', sa.String(length=36), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_change_author_id_user')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_change'))
    )
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_index('ix_change_author_seq', ['author_id', 'seq'], unique=False)

    op.create_table('classroom',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=True),
    sa.Column('grade', sa.String(length=40), nullable=True),
    sa.Column('subject', sa.String(length=100), nullable=True),
    sa.Column('course_level', sa.String(length=40), nullable=True),
    sa.Column('students', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_classroom_school_id_school')),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'], name=op.f('fk_classroom_teacher_id_teacher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_classroom')),
    sa.UniqueConstraint('external_id', name=op.f('uq_classroom_external_id'))
    )
    with op.batch_alter_table('classroom', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classroom_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_classroom_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('rejected_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.String(length=64), nullable=False),
    sa.Column('observation_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=100), nullable=False),
    sa.Column('app_version', sa.String(length=40), nullable=False),
    sa.Column('user_agent', sa.String(length=400), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('received_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_rejected_version_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejected_version'))
    )
    with op.batch_alter_table('rejected_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejected_version_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rejected_version_version_id'), ['version_id'], unique=False)

    op.create_table('rubric_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('source_text', sa.Text(), nullable=False),
    sa.Column('loaded_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rubric_id'], ['rubric.id'], name=op.f('fk_rubric_version_rubric_id_rubric')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_version')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_rubric_version_content_hash')),
    sa.UniqueConstraint('rubric_id', 'number', name=op.f('uq_rubric_version_rubric_id_number'))
    )
    with op.batch_alter_table('rubric_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_version_rubric_id'), ['rubric_id'], unique=False)

    op.create_table('school_attribute',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_school_attribute_school_id_school'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_id', 'name', name=op.f('pk_school_attribute'))
    )
    with op.batch_alter_table('school_attribute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_attribute_name'), ['name'], unique=False)

    op.create_table('user_school',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_user_school_school_id_school'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_school_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'school_id', name=op.f('pk_user_school'))
    )
    op.create_table('classroom_attribute',
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['classroom_id'], ['classroom.id'], name=op.f('fk_classroom_attribute_classroom_id_classroom'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('classroom_id', 'name', name=op.f('pk_classroom_attribute'))
    )
    with op.batch_alter_table('classroom_attribute', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classroom_attribute_name'), ['name'], unique=False)

    op.create_table('classroom_program',
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('program', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['classroom_id'], ['classroom.id'], name=op.f('fk_classroom_program_classroom_id_classroom'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('classroom_id', 'program', name=op.f('pk_classroom_program'))
    )
    with op.batch_alter_table('classroom_program', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_classroom_program_program'), ['program'], unique=False)

    op.create_table('competency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_competency_rubric_version_id_rubric_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competency')),
    sa.UniqueConstraint('rubric_version_id', 'key', name=op.f('uq_competency_rubric_version_id_key'))
    )
    with op.batch_alter_table('competency', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competency_rubric_version_id'), ['rubric_version_id'], unique=False)

    op.create_table('observation',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=True),
    sa.Column('observed_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('context', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', name='observation_state'), nullable=False),
    sa.Column('submitted_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('head_version_id', sa.String(length=36), nullable=True),
    sa.Column('has_conflict', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_observation_author_id_user')),
    sa.ForeignKeyConstraint(['classroom_id'], ['classroom.id'], name=op.f('fk_observation_classroom_id_classroom')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['user.id'], name=op.f('fk_observation_deleted_by_id_user')),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_observation_rubric_version_id_rubric_version')),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], name=op.f('fk_observation_school_id_school')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation'))
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_classroom_id'), ['classroom_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_rubric_version_id'), ['rubric_version_id'], unique=False)
        batch_op.create_index('ix_observation_school_observed', ['school_id', 'observed_at'], unique=False)

    op.create_table('criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('competency_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('kind', sa.Enum('student', 'adult', name='criterion_kind'), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('allows_not_observed', sa.Boolean(), nullable=False),
    sa.Column('levels', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['competency_id'], ['competency.id'], name=op.f('fk_criterion_competency_id_competency')),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_criterion_rubric_version_id_rubric_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion')),
    sa.UniqueConstraint('rubric_version_id', 'key', name=op.f('uq_criterion_rubric_version_id_key'))
    )
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterion_competency_id'), ['competency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_criterion_rubric_version_id'), ['rubric_version_id'], unique=False)

    op.create_table('observation_version',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('observation_id', sa.String(length=36), nullable=False),
    sa.Column('base_version_id', sa.String(length=36), nullable=True),
    sa.Column('pushed_by_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=100), nullable=False),
    sa.Column('app_version', sa.String(length=40), nullable=False),
    sa.Column('user_agent', sa.String(length=400), nullable=False),
    sa.Column('saved_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.Enum('applied', 'conflict', name='version_outcome'), nullable=False),
    sa.Column('received_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_observation_version_observation_id_observation')),
    sa.ForeignKeyConstraint(['pushed_by_id'], ['user.id'], name=op.f('fk_observation_version_pushed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_observation_version'))
    )
    with op.batch_alter_table('observation_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_version_observation_id'), ['observation_id'], unique=False)

    op.create_table('criterion_dimension',
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.Enum('identity', 'power', 'access', 'achievement', name='equity_dimension'), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_criterion_dimension_criterion_id_criterion'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('criterion_id', 'dimension', name=op.f('pk_criterion_dimension'))
    )
    with op.batch_alter_table('criterion_dimension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterion_dimension_dimension'), ['dimension'], unique=False)

    op.create_table('rating',
    sa.Column('observation_id', sa.String(length=36), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('not_observed', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['criterion.id'], name=op.f('fk_rating_criterion_id_criterion')),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_rating_observation_id_observation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('observation_id', 'criterion_id', name=op.f('pk_rating'))
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_criterion_id'), ['criterion_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_criterion_id'))

    op.drop_table('rating')
    with op.batch_alter_table('criterion_dimension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criterion_dimension_dimension'))

    op.drop_table('criterion_dimension')
    with op.batch_alter_table('observation_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_version_observation_id'))

    op.drop_table('observation_version')
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criterion_rubric_version_id'))
        batch_op.drop_index(batch_op.f('ix_criterion_competency_id'))

    op.drop_table('criterion')
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index('ix_observation_school_observed')
        batch_op.drop_index(batch_op.f('ix_observation_rubric_version_id'))
        batch_op.drop_index(batch_op.f('ix_observation_classroom_id'))
        batch_op.drop_index(batch_op.f('ix_observation_author_id'))

    op.drop_table('observation')
    with op.batch_alter_table('competency', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competency_rubric_version_id'))

    op.drop_table('competency')
    with op.batch_alter_table('classroom_program', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classroom_program_program'))

    op.drop_table('classroom_program')
    with op.batch_alter_table('classroom_attribute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classroom_attribute_name'))

    op.drop_table('classroom_attribute')
    op.drop_table('user_school')
    with op.batch_alter_table('school_attribute', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_attribute_name'))

    op.drop_table('school_attribute')
    with op.batch_alter_table('rubric_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_version_rubric_id'))

    op.drop_table('rubric_version')
    with op.batch_alter_table('rejected_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejected_version_version_id'))
        batch_op.drop_index(batch_op.f('ix_rejected_version_user_id'))

    op.drop_table('rejected_version')
    with op.batch_alter_table('classroom', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_classroom_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_classroom_school_id'))

    op.drop_table('classroom')
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_index('ix_change_author_seq')

    op.drop_table('change')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('user')
    op.drop_table('teacher')
    op.drop_table('school')
    op.drop_table('rubric')
    op.drop_table('change_counter')
    # PostgreSQL keeps enum types after their tables are dropped; drop them so upgrade can
    # run again.
    for enum_name in ('criterion_kind', 'equity_dimension', 'observation_state', 'user_role', 'version_outcome'):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
