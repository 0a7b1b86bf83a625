"""FastAPI dependencies shared by the public POST routes."""

from __future__ import annotations

import math

from fastapi import Request

from mailflow.web.context import client_address, web
from mailflow.web.errors import RateLimited


def retry_after(wait: float) -> dict[str, str]:
    """The Retry-After header for a wait in seconds."""
    return {"Retry-After": str(max(1, math.ceil(wait)))}


async def limit_posts(request: Request) -> None:
    """Refuse (429) an address that posted answers more than web.rate_limit_per_minute times."""
    wait = await web(request).limiter.check(client_address(request))
    if wait is not None:
        raise RateLimited(headers=retry_after(wait))


async def limit_unsubscribes(request: Request) -> None:
    """Refuse (429) an address past web.unsubscribe_limit_per_minute (its own bucket)."""
    wait = await web(request).unsubscribe_limiter.check(client_address(request))
    if wait is not None:
        raise RateLimited(headers=retry_after(wait))
