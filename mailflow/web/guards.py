"""FastAPI dependencies that guard routes: rate limits of the public POSTs, and the staff roles.

Roles (mailflow.auth.ROLES): *admin* everything; *manager* surveys, escalations, every report,
no users or keys; *agent* only their own results. Who may open which admin path is the table in
mailflow.web.navigation, checked by mailflow.web.auth.require_user on every admin page. On top:

    user: User = Depends(require_role("admin"))          # a route for these roles only
    flt = scope_filter(user, flt)                        # a report filter an agent cannot widen
    if not may_see_employee(user, ticket.employee_id):   # one record of somebody's
        raise NotFound()

An agent's reports are always narrowed to their own employee, whatever the query asked for;
an agent without an employee sees nothing (NO_EMPLOYEE matches no row).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Depends, Request

from mailflow.web.auth import require_csrf, require_user
from mailflow.web.context import client_address, web
from mailflow.web.errors import Forbidden, RateLimited, retry_after
from storage.models import User

__all__ = [
    "NO_EMPLOYEE",
    "agent_employee_id",
    "limit_posts",
    "limit_unsubscribes",
    "may_see_employee",
    "require_role",
    "require_role_csrf",
    "retry_after",
    "scope_filter",
]

NO_EMPLOYEE = -1  # an id no employee has: an agent without an employee matches nothing
F = TypeVar("F")


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


def require_role(*roles: str) -> Callable[..., Awaitable[User]]:
    """A dependency: the signed-in user when their role is one of `roles`, else 403."""

    async def guard(user: User = Depends(require_user)) -> User:
        if user.role not in roles:
            raise Forbidden(user.locale)
        return user

    return guard


def require_role_csrf(*roles: str) -> Callable[..., Awaitable[User]]:
    """require_role for a form POST: the session's CSRF field checked as well."""

    async def guard(user: User = Depends(require_csrf)) -> User:
        if user.role not in roles:
            raise Forbidden(user.locale)
        return user

    return guard


def agent_employee_id(user: User) -> int | None:
    """The employee an agent's views are narrowed to; None for admins and managers."""
    if user.role != "agent":
        return None
    return user.employee_id if user.employee_id is not None else NO_EMPLOYEE


def scope_filter(user: User, flt: F) -> F:
    """A report filter (anything with `employee_id`) narrowed to an agent's own employee."""
    own = agent_employee_id(user)
    if own is None:
        return flt
    return dataclasses.replace(flt, employee_id=own)  # type: ignore[type-var]


def may_see_employee(user: User, employee_id: int | None) -> bool:
    """Whether `user` may see a record belonging to `employee_id` (an agent: only their own)."""
    own = agent_employee_id(user)
    return own is None or (employee_id is not None and employee_id == own)
