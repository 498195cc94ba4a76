"""tablet devices: each browser's tablet database and what the server acknowledged to it

Revision ID: 0e71c7d0a5e1
Revises: 5b1e0a9c7d21
Created: 2026-12-03 04:40:00
"""

from alembic import op
import sqlalchemy as sa
import observe.core.models


revision = '0e71c7d0a5e1'
down_revision = '5b1e0a9c7d21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tablet_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('database_id', sa.String(length=100), nullable=True),
    sa.Column('acknowledged_count', sa.Integer(), nullable=False),
    sa.Column('last_version_id', sa.String(length=36), nullable=True),
    sa.Column('last_acknowledged_at', observe.core.models.UTCDateTime(), nullable=True),
    sa.Column('persisted', sa.String(length=12), nullable=True),
    sa.Column('created_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', observe.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_tablet_device_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tablet_device')),
    sa.UniqueConstraint('key_hash', 'user_id', name=op.f('uq_tablet_device_key_hash_user_id'))
    )
    with op.batch_alter_table('tablet_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tablet_device_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tablet_device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tablet_device_user_id'))

    op.drop_table('tablet_device')
