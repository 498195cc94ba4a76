"""photos of student work: one row per photo of a walkthrough, its bytes in the photo storage

Revision ID: 8ed8ffd30a76
Revises: 0e71c7d0a5e1
Created: 2026-12-03 10:15:16.880046
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '8ed8ffd30a76'
down_revision = '0e71c7d0a5e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('criterion_key', sa.String(length=100), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['observation_id'], ['observation.id'], name=op.f('fk_photo_observation_id_observation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_photo_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo')),
    sa.UniqueConstraint('observation_id', 'sha256', name='uq_photo_observation_sha256')
    )


def downgrade() -> None:
    op.drop_table('photo')
