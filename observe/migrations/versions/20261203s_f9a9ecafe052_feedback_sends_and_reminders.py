"""feedback e-mailed to teachers (and what they did with it), calibration reminders

feedback_send: one row per e-mail a mail server accepted, keyed by the id the device made
(replays send nothing twice); the teacher's acknowledgement and reflection. calibration_reminder:
the last reminder each participant of a session was sent (at most one an hour).

Revision ID: f9a9ecafe052
Revises: c0e0e51d1695
Created: 2026-12-03 10:17:26.718751
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = 'f9a9ecafe052'
down_revision = 'c0e0e51d1695'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calibration_reminder',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reminded_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('reminded_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reminded_by_id'], ['user.id'], name=op.f('fk_calibration_reminder_reminded_by_id_user')),
    sa.ForeignKeyConstraint(['session_id'], ['calibration_session.id'], name=op.f('fk_calibration_reminder_session_id_calibration_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_calibration_reminder_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'user_id', name=op.f('pk_calibration_reminder'))
    )
    op.create_table('feedback_send',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('observation_id', sa.String(length=36), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('sent_to', sa.String(length=254), nullable=False),
    sa.Column('sent_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('acknowledged_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.Column('reflection', sa.Text(), nullable=False),
    sa.Column('reflected_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_feedback_send_observation_id_observation')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['user.id'], name=op.f('fk_feedback_send_sent_by_id_user')),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'], name=op.f('fk_feedback_send_teacher_id_teacher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_send'))
    )
    with op.batch_alter_table('feedback_send', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_send_observation_id'), ['observation_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('feedback_send', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_send_observation_id'))

    op.drop_table('feedback_send')
    op.drop_table('calibration_reminder')
