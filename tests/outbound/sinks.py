"""SMTP servers on loopback with the features a test needs: SMTPUTF8 offered, a fixed port
(a relay that goes away and comes back), replies that take their time (a slow relay)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.policy import free_port
from tests.support.smtp_sink import SERVER_HOSTNAME, SinkHandler, SinkMessage


class SlowHandler(SinkHandler):
    """Accepts every message after `delay` seconds (a relay under load)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


class Relay:
    """An aiosmtpd relay on 127.0.0.1:`port` that can be stopped and started again."""

    def __init__(
        self, *, port: int | None = None, smtputf8: bool = False, handler: Any = None
    ) -> None:
        self.host, self.port = "127.0.0.1", port or free_port("127.0.0.1")
        self.smtputf8 = smtputf8
        self.handler = handler or SinkHandler()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[SinkMessage]:
        return self.handler.messages

    def start(self) -> Relay:
        self._controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            server_hostname=SERVER_HOSTNAME,
            enable_SMTPUTF8=self.smtputf8,
            ready_timeout=10,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()
