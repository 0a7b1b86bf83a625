"""The admin area's one navigation, and who may open which admin path.

base.html renders NAVIGATION for the signed-in user (the entries their role allows), so every
admin page has the same top bar. A page adds itself with one line here:

    Entry("/admin/contacts", "nav_contacts", STAFF),

(the key is an interface string in en/ru/pl, e.g. in mailflow.web.console_strings). The roles
of an entry also guard every path under it: `roles_for("/admin/contacts/7")` is the roles of
the longest entry (of NAVIGATION and ACCESS) that is a prefix of the path, at a "/" boundary
(the "/admin" entry is that page alone); a path no entry covers is for admins and managers.
mailflow.web.auth.require_user checks it on every admin page, so a page that forgets a guard
is still guarded.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN: tuple[str, ...] = ("admin",)
STAFF: tuple[str, ...] = ("admin", "manager")  # everything but users and keys
EVERYONE: tuple[str, ...] = ("admin", "manager", "agent")


@dataclass(frozen=True)
class Entry:
    """A link of the top bar: where it goes, its interface string, the roles that see it."""

    path: str
    key: str
    roles: tuple[str, ...]


NAVIGATION: list[Entry] = [
    Entry("/admin", "nav_home", EVERYONE),
    Entry("/admin/dashboard", "nav_dashboard", EVERYONE),
    Entry("/admin/escalations", "nav_escalations", STAFF),
    Entry("/admin/inbound", "nav_inbound", STAFF),
    Entry("/admin/requests", "nav_requests", STAFF),
    Entry("/admin/contacts", "nav_contacts", STAFF),
    Entry("/admin/reasons", "nav_reasons", STAFF),
    Entry("/admin/surveys", "nav_surveys", STAFF),
    Entry("/admin/branding", "nav_branding", STAFF),
    Entry("/admin/users", "nav_users", ADMIN),
    Entry("/admin/integrations", "nav_integrations", ADMIN),
]

# Paths that are not in the top bar but need other roles than the entry above them.
ACCESS: list[Entry] = [
    Entry("/admin/account", "", EVERYONE),  # one's own language and password
    Entry("/admin/locale", "", EVERYONE),
    Entry("/admin/logout", "", EVERYONE),
    Entry("/admin/dashboard/escalations", "", STAFF),
    Entry("/admin/dashboard/quarantine", "", STAFF),
    Entry("/admin/dashboard/requests", "", STAFF),
]


AREA = "/admin"  # its entry is that page alone, not every admin path


def _covers(prefix: str, path: str) -> bool:
    if prefix == AREA:
        return path in (AREA, AREA + "/")
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def roles_for(path: str) -> tuple[str, ...]:
    """The roles that may open `path` (STAFF when no entry covers it)."""
    best: Entry | None = None
    for entry in (*NAVIGATION, *ACCESS):
        if _covers(entry.path, path) and (best is None or len(entry.path) > len(best.path)):
            best = entry
    return best.roles if best is not None else STAFF


def allowed(role: str, path: str) -> bool:
    """Whether a user of `role` may open `path`."""
    return role in roles_for(path)


def entries_for(role: str) -> list[Entry]:
    """The top-bar entries a user of `role` sees, in order."""
    return [entry for entry in NAVIGATION if role in entry.roles]


def current_entry(path: str) -> str:
    """The path of the entry `path` belongs to (highlighted in the bar), "" for none."""
    covering = [e.path for e in NAVIGATION if _covers(e.path, path)]
    return max(covering, key=len) if covering else ""
