"""inbound message: identity is the SHA-256 of the bytes; Message-ID indexed, no longer unique

Two different replies may carry the same Message-ID; the second must be stored, not dropped as
a repeat. A repeat is the same bytes, which `sha256` (still unique) enforces.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_INDEX = "ix_inboundmessage_message_id"
# SQLite's unique constraint from 0001 has no name; batch mode names it by this convention so
# it can be dropped when the table is copied.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _message_id_unique_name() -> str:
    bind = op.get_bind()
    for constraint in sa.inspect(bind).get_unique_constraints("inboundmessage"):
        if constraint["column_names"] == ["message_id"] and constraint.get("name"):
            return str(constraint["name"])
    return "uq_inboundmessage_message_id"


def upgrade() -> None:
    name = _message_id_unique_name()
    with op.batch_alter_table("inboundmessage", schema=None, naming_convention=_NAMING) as batch_op:
        batch_op.drop_constraint(name, type_="unique")
        batch_op.create_index(_INDEX, ["message_id"], unique=False)


def downgrade() -> None:
    # Rows that share a Message-ID would break the old constraint; deleting answers to make room
    # would lose them, so the downgrade refuses and names the problem instead.
    shared = op.get_bind().execute(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT message_id FROM inboundmessage "
            "GROUP BY message_id HAVING COUNT(*) > 1) AS shared"
        )
    )
    if shared.scalar_one():
        raise RuntimeError(
            "cannot downgrade 0003: several inbound messages share a Message-ID; "
            "resolve them (keep or delete) before downgrading"
        )
    with op.batch_alter_table("inboundmessage", schema=None) as batch_op:
        batch_op.drop_index(_INDEX)
        batch_op.create_unique_constraint("uq_inboundmessage_message_id", ["message_id"])
