"""the manager's console: staff roles and e-mail, surveys and brand as versioned data

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 23:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "role",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="admin",
            )
        )
        batch_op.add_column(
            sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True)
        )
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "surveyversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["survey_id"], ["survey.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("survey_id", "number"),
    )
    with op.batch_alter_table("surveyversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_surveyversion_survey_id"), ["survey_id"], unique=False)
    op.create_table(
        "brandrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("surveyrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survey_version_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_surveyrequest_survey_version_id", "surveyversion", ["survey_version_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("surveyrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_surveyrequest_survey_version_id", type_="foreignkey")
        batch_op.drop_column("survey_version_id")
    op.drop_table("brandrecord")
    with op.batch_alter_table("surveyversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveyversion_survey_id"))
    op.drop_table("surveyversion")
    op.drop_table("survey")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("role")
