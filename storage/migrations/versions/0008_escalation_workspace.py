"""escalation workspace: assignee, overdue reminder, the timeline

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01 23:20:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_escalation_assignee_user_id"), ["assignee_user_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_escalation_assignee_user_id", "user", ["assignee_user_id"], ["id"]
        )
    op.create_table(
        "escalationevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=250), nullable=True),
        sa.Column("inbound_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"]),
        sa.ForeignKeyConstraint(["inbound_message_id"], ["inboundmessage.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
        sa.UniqueConstraint("inbound_message_id"),
    )
    with op.batch_alter_table("escalationevent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalationevent_escalation_id"), ["escalation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("escalationevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalationevent_escalation_id"))
    op.drop_table("escalationevent")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_constraint("fk_escalation_assignee_user_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_escalation_assignee_user_id"))
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("assignee_user_id")
