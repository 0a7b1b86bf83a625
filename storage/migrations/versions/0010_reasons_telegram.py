"""answer reasons (the reason question's option, or "other" and its text, per response); the
Telegram channel: linked chats and the Telegram outbox

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-01 23:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answerreason",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("survey_key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("followup", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("option", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "followup", name="uq_answerreason_followup"),
    )
    with op.batch_alter_table("answerreason", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answerreason_response_id"), ["response_id"], unique=False
        )
        batch_op.create_index(
            "ix_answerreason_survey_option", ["survey_key", "followup", "option"], unique=False
        )


    op.create_table(
        "telegramchat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("awaiting_request_id", sa.Integer(), nullable=True),
        sa.Column("awaiting", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.ForeignKeyConstraint(["awaiting_request_id"], ["surveyrequest.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id"),
        sa.UniqueConstraint("contact_id"),
    )
    op.create_table(
        "telegrammessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["surveyrequest.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("telegrammessage", schema=None) as batch_op:
        batch_op.create_index("ix_telegrammessage_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegrammessage", schema=None) as batch_op:
        batch_op.drop_index("ix_telegrammessage_due")
    op.drop_table("telegrammessage")
    op.drop_table("telegramchat")
    with op.batch_alter_table("answerreason", schema=None) as batch_op:
        batch_op.drop_index("ix_answerreason_survey_option")
        batch_op.drop_index(batch_op.f("ix_answerreason_response_id"))
    op.drop_table("answerreason")
