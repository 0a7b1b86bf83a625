"""Everything that leaves Mailflow by email is made here: survey emails (survey.py) and notices
about answers (notice.py), both assembled and DKIM-signed by envelope.py."""

from mailflow.render.envelope import header_safe, new_message_id, reply_address
from mailflow.render.notice import Email, render_notice
from mailflow.render.survey import Recipient, Renderer

__all__ = [
    "Email",
    "Recipient",
    "Renderer",
    "header_safe",
    "new_message_id",
    "render_notice",
    "reply_address",
]
