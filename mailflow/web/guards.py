"""FastAPI dependencies shared by the public POST routes."""

from __future__ import annotations

import math

from fastapi import Request

from mailflow.web.context import client_address, web
from mailflow.web.errors import RateLimited


async def limit_posts(request: Request) -> None:
    """Refuse (429) an address that posted more than web.rate_limit_per_minute times."""
    wait = web(request).limiter.hit(client_address(request))
    if wait is not None:
        raise RateLimited(headers={"Retry-After": str(max(1, math.ceil(wait)))})
