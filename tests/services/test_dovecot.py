"""Dovecot: LOGIN, APPEND, SELECT and MOVE against the private IMAP server."""

import imaplib

import pytest
from imapclient import IMAPClient

MESSAGE = (
    b"From: Client <client@example.com>\r\n"
    b"To: survey@mailflow.test\r\n"
    b"Subject: Re: How did we do?\r\n"
    b"Message-ID: <smoke-1@example.com>\r\n"
    b"\r\n"
    b"9, thanks!\r\n"
)


def test_login_append_select_move(dovecot_clean):
    server = dovecot_clean
    with IMAPClient(server.host, port=server.port, ssl=False, timeout=10) as client:
        client.login(server.user, server.password)
        capabilities = client.capabilities()
        for capability in (b"IDLE", b"MOVE", b"UIDPLUS"):
            assert capability in capabilities
        client.append("INBOX", MESSAGE)
        info = client.select_folder("INBOX")
        assert info[b"EXISTS"] == 1
        uids = client.search(["HEADER", "Message-ID", "<smoke-1@example.com>"])
        assert len(uids) == 1
        client.move(uids, "Processed")
        assert client.search(["ALL"]) == []
        client.logout()

    assert server.list_messages("INBOX") == []
    assert server.list_messages("Processed") == [MESSAGE]
    assert server.list_messages("Failed") == []


def test_helpers_append_and_reset(dovecot_clean):
    dovecot_clean.append(MESSAGE)
    dovecot_clean.append(MESSAGE, folder="Archive/2024")
    assert dovecot_clean.list_messages() == [MESSAGE]
    assert "Archive/2024" in dovecot_clean.folders()

    dovecot_clean.reset()
    assert dovecot_clean.list_messages() == []
    assert sorted(dovecot_clean.folders()) == ["Failed", "INBOX", "Processed"]


def test_wrong_password_is_refused(dovecot):
    with IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10) as client:
        with pytest.raises(imaplib.IMAP4.error):
            client.login(dovecot.user, "not-the-password")
        client.logout()
