"""Claims on updates with a state and a lease, so an update whose worker died is handled again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before were handled (or given up on): they stay "done".
    with op.batch_alter_table("processed_updates") as batch:
        batch.add_column(sa.Column("state", sa.String(8), nullable=False, server_default="done"))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("owner", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("owner")
        batch.drop_column("claimed_at")
        batch.drop_column("state")
