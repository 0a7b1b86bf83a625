"""A private Dovecot IMAP server for tests (see shared/SERVICES.md for why each setting)."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .policy import free_port

AUTO_FOLDERS = ("INBOX", "Processed", "Failed")
START_TIMEOUT = 15.0

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
# IDLE learns of new mail by inotify; when the machine runs out of inotify instances (busy CI,
# a browser open) Dovecot falls back to this interval, 30 s by default: longer than tests wait.
mailbox_idle_check_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
  mailbox Failed {{
    auto = create
  }}
}}
"""


class DovecotError(RuntimeError):
    """Dovecot did not start or stop as expected; the message carries its log."""


class DovecotServer:
    """One private Dovecot master process serving one mail user over plain IMAP on loopback."""

    def __init__(self, user: str = "mailflow", password: str = "mailflow-test-secret") -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.user = user
        self.password = password
        self.root = Path(tempfile.mkdtemp(prefix="mailflow-dovecot-"))
        self.root.chmod(0o755)  # Dovecot's unprivileged helpers must reach it
        self.config_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.pid_path = self.root / "run" / "master.pid"
        self._proc: subprocess.Popen[bytes] | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if os.geteuid() == 0:
            mail_owner = pwd.getpwnam("dovecot")
            login_user, internal_user = "dovenull", "dovecot"
        else:  # an unprivileged run: everything runs as the current user
            mail_owner = pwd.getpwuid(os.geteuid())
            login_user = internal_user = mail_owner.pw_name
        uid, gid = mail_owner.pw_uid, mail_owner.pw_gid
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(exist_ok=True)
        home = self.root / "home" / self.user
        home.mkdir(exist_ok=True)
        for path in (self.root / "mail", home):
            os.chown(path, uid, gid)
        self.pid_path.unlink(missing_ok=True)  # a stale pid file makes dovecot refuse to start

        self.port = free_port(self.host)
        self.config_path.write_text(
            CONFIG.format(
                root=self.root,
                port=self.port,
                uid=uid,
                gid=gid,
                login_user=login_user,
                internal_user=internal_user,
            )
        )
        hashed = subprocess.run(
            [
                "doveadm",
                "-c",
                str(self.config_path),
                "pw",
                "-s",
                "SHA512-CRYPT",
                "-p",
                self.password,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=15,
        ).stdout.strip()
        (self.root / "passwd").write_text(f"{self.user}:{hashed}:{uid}:{gid}::{home}::\n")

        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [dovecot, "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no attempt"
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise DovecotError(
                    f"dovecot exited with {self._proc.returncode} at start\n{self.log()}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    greeting = sock.recv(512)
                if greeting.startswith(b"* OK"):
                    return
                last_error = f"unexpected greeting {greeting!r}"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.05)
        self.stop()
        raise DovecotError(
            f"dovecot did not greet on {self.host}:{self.port} within {START_TIMEOUT:.0f} s "
            f"({last_error})\n{self.log()}"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            os.kill(int(self.pid_path.read_text().strip()), signal.SIGTERM)
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return "--- dovecot log ---\n" + self.log_path.read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return "(no dovecot log)"

    # --- mailbox helpers -----------------------------------------------------------------------
    @contextlib.contextmanager
    def connect(self) -> Iterator[object]:
        """A logged-in imapclient.IMAPClient, logged out on exit."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            client.login(self.user, self.password)
            yield client
        finally:
            try:
                client.logout()
            except (imaplib.IMAP4.error, OSError):  # the connection may already be gone
                client.shutdown()

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver one raw message into `folder` (created if missing)."""
        with self.connect() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)

    def list_messages(self, folder: str = "INBOX") -> list[bytes]:
        """The raw messages in `folder`, in UID order."""
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search(["ALL"]))
            if not uids:
                return []
            fetched = client.fetch(uids, [b"BODY.PEEK[]"])
            return [fetched[uid][b"BODY[]"] for uid in uids]

    def folders(self) -> list[str]:
        with self.connect() as client:
            return [name for _flags, _sep, name in client.list_folders()]

    def reset(self) -> None:
        """Empty every folder; delete folders other than INBOX, Processed and Failed."""
        with self.connect() as client:
            listed = client.list_folders()
            # Children before parents; a parent that only holds children is \NonExistent.
            for flags, _sep, name in sorted(listed, key=lambda f: f[2].count("/"), reverse=True):
                if name in AUTO_FOLDERS:
                    continue
                if not {b"\\NonExistent", b"\\Noselect"} & set(flags):
                    client.delete_folder(name)
            for name in AUTO_FOLDERS:
                client.select_folder(name)
                uids = client.search(["ALL"])
                if uids:
                    client.delete_messages(uids)
                    client.expunge()
                client.close_folder()
