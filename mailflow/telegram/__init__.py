"""The Telegram channel on the Bot API (python-telegram-bot): the survey as a message with a
button per answer, the answer through record_answer, follow-ups in the chat, an outbox."""
