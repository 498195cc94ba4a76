"""walkthroughs keep their classroom's profile and teacher at the visit (history as it was)

Adds ``classroom_profile`` (every profile ever seen, never deleted) and ``observation.profile``
and ``observation.teacher_id``, filled from the classrooms as they are now: the best the
database knows of the past. The rollups are counted afresh at the next report.

Revision ID: 3ad1b756ad7a
Revises: 448b91455b20
Created: 2026-12-03 13:26:56
"""

import hashlib
import json
from collections import defaultdict

import sqlalchemy as sa
from alembic import op


revision = '3ad1b756ad7a'
down_revision = '448b91455b20'
branch_labels = None
depends_on = None


_VISITS = ['observed_at', 'classroom_id', 'school_id', 'state', 'deleted_at',
           'calibration_session_id']


def _key(facts: dict) -> str:
    # As observe/roster/profiles.py:key_of computes it, written out so this file never changes.
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def upgrade() -> None:
    profile = op.create_table(
        'classroom_profile',
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('grade', sa.String(length=40), nullable=True),
        sa.Column('subject', sa.String(length=100), nullable=True),
        sa.Column('course_level', sa.String(length=40), nullable=True),
        sa.Column('programs', sa.JSON(), nullable=False),
        sa.Column('attributes', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_classroom_profile')),
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('profile', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('teacher_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_observation_teacher_id'), ['teacher_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_observation_teacher_id_teacher'), 'teacher', ['teacher_id'], ['id']
        )

    # The coverage report counts visits per classroom, school and profile from this index alone.
    op.drop_index('ix_observation_visits', table_name='observation')
    op.create_index('ix_observation_visits', 'observation', _VISITS + ['profile'], unique=False)

    connection = op.get_bind()
    programs = defaultdict(list)
    for classroom_id, name in connection.execute(
        sa.text('SELECT classroom_id, program FROM classroom_program')
    ):
        programs[classroom_id].append(name)
    attributes = defaultdict(list)
    for classroom_id, name, value in connection.execute(
        sa.text('SELECT classroom_id, name, value FROM classroom_attribute')
    ):
        attributes[classroom_id].append([name, value])
    seen: dict[str, dict] = {}
    classrooms, walkthroughs = [], []
    for classroom_id, grade, subject, level, teacher_id in connection.execute(
        sa.text('SELECT id, grade, subject, course_level, teacher_id FROM classroom')
    ):
        facts = {
            'grade': grade,
            'subject': subject,
            'course_level': level,
            'programs': sorted(programs[classroom_id]),
            'attributes': sorted(attributes[classroom_id]),
        }
        key = _key(facts)
        seen.setdefault(key, facts)
        classrooms.append({'c': classroom_id, 'p': key})
        walkthroughs.append({'c': classroom_id, 'p': key, 't': teacher_id})
    if seen:
        op.bulk_insert(profile, [{'key': key, **facts} for key, facts in seen.items()])
    if classrooms:
        connection.execute(sa.text('UPDATE classroom SET profile = :p WHERE id = :c'), classrooms)
        connection.execute(
            sa.text('UPDATE observation SET profile = :p, teacher_id = :t WHERE classroom_id = :c'),
            walkthroughs,
        )
    connection.execute(sa.text("UPDATE observation SET profile = '' WHERE classroom_id IS NULL"))
    # The rollups were keyed by the classrooms' profiles as last worked out, which an import
    # since may have changed: the next report counts them afresh, by the walkthroughs' own.
    connection.execute(sa.text('DELETE FROM rollup_state'))


def downgrade() -> None:
    op.drop_index('ix_observation_visits', table_name='observation')
    op.create_index('ix_observation_visits', 'observation', _VISITS, unique=False)
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_observation_teacher_id_teacher'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_observation_teacher_id'))
        batch_op.drop_column('teacher_id')
        batch_op.drop_column('profile')
    op.drop_table('classroom_profile')
    op.get_bind().execute(sa.text('DELETE FROM rollup_state'))
