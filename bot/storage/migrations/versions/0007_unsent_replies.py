"""Replies an update still had to send when sending failed halfway, for its retry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unsent_replies",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("people.user_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replies", sa.Text(), nullable=False),
    )
    op.create_index("ix_unsent_replies_user_id", "unsent_replies", ["user_id"])
    op.create_index("ix_unsent_replies_at", "unsent_replies", ["at"])


def downgrade() -> None:
    op.drop_table("unsent_replies")
