"""Operator names as long as Telegram allows (first and last name, 64 characters each).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("operator_name", type_=sa.String(129), existing_type=sa.String(64))


def downgrade() -> None:
    op.execute("UPDATE tickets SET operator_name = substr(operator_name, 1, 64)")
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("operator_name", type_=sa.String(64), existing_type=sa.String(129))
