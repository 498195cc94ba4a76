"""rater-effects fits: observer leans for adjusted comparisons

The latest fit per rubric version and level (rater_fit) and each observer's lean in it
(rater_lean): what the summary's observer-adjusted figures and the calibration trends read.

Revision ID: 742318f075eb
Revises: 3ad1b756ad7a
Created: 2026-12-03 13:27:32.246949
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models
from sqlalchemy.dialects import postgresql

revision = '742318f075eb'
down_revision = '3ad1b756ad7a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rater_fit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_version_id', sa.Integer(), nullable=False),
    sa.Column('at_least', sa.Integer(), nullable=False),
    sa.Column('fitted_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('walkthroughs_counted', sa.Integer(), nullable=False),
    sa.Column('walkthroughs_fitted', sa.Integer(), nullable=False),
    sa.Column('lessons', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Text(), nullable=True),
    sa.Column('sigma', sa.Double(), nullable=False),
    sa.Column('tau_observer', sa.Double(), nullable=False),
    sa.Column('tau_lesson', sa.Double(), nullable=False),
    sa.Column('seconds', sa.Double(), nullable=False),
    sa.Column('left_out', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['rubric_version_id'], ['rubric_version.id'], name=op.f('fk_rater_fit_rubric_version_id_rubric_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rater_fit'))
    )
    with op.batch_alter_table('rater_fit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rater_fit_rubric_version_id'), ['rubric_version_id'], unique=False)

    op.create_table('rater_lean',
    sa.Column('fit_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lean', sa.Double(), nullable=False),
    sa.Column('standard_error', sa.Double(), nullable=False),
    sa.Column('walkthroughs', sa.Integer(), nullable=False),
    sa.Column('lessons', sa.Integer(), nullable=False),
    sa.Column('shared', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fit_id'], ['rater_fit.id'], name=op.f('fk_rater_lean_fit_id_rater_fit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_rater_lean_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('fit_id', 'user_id', name=op.f('pk_rater_lean'))
    )
    with op.batch_alter_table('rater_lean', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rater_lean_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rater_lean', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rater_lean_user_id'))

    op.drop_table('rater_lean')
    with op.batch_alter_table('rater_fit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rater_fit_rubric_version_id'))

    op.drop_table('rater_fit')
