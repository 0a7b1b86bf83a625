"""/admin/inbound: stored mail that needs a person (quarantined, unmatched, unverified senders,
and what was ignored), with sender, subject, the reason in the reader's words and what was
read; one message's headers, text, sanitised HTML (sandboxed srcdoc frame) and raw download;
retry, accept the sender, attach to a request, dismiss, one by one or in bulk. The actions are
the CLI's (mailflow.inbound.worker.retry / accept, mailflow.inbound.staff)."""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Text, func, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from mailflow.console_words import console_words, reason_text
from mailflow.inbound import staff
from mailflow.inbound.worker import RetryRefused, accept, retry
from mailflow.settings import Settings
from mailflow.web.auth import admin_page, console_guard, user_locale
from mailflow.web.context import web
from mailflow.web.limits import DbId
from mailflow.web.listing import ListSpec, Page, paginate
from mailflow.web.mail_html import html_part, sanitise
from storage.models import Contact, InboundMessage, SurveyRequest, Task, User
from storage.states import InboundStatus

router = APIRouter(include_in_schema=False)
BASE = "/admin/inbound"
VIEWS = ("problems", "quarantined", "unverified", "unmatched", "ignored", "all")
ACTIONS = ("retry", "accept", "dismiss")
HEAD = func.substr(InboundMessage.raw, 1, staff.HEAD_BYTES)
SPEC = ListSpec(
    sorts={
        "id": InboundMessage.id,
        "received": InboundMessage.received_at,
        "status": InboundMessage.status,
    },
    default_sort="-received",
    filters=("view", "q"),
)
MAX_TEXT = 20_000
MAX_BULK = 500


guard = console_guard  # the one place for these pages' checks


_locale = user_locale


@dataclass(frozen=True)
class Row:
    """One message in the list."""

    message: InboundMessage
    sender: str
    subject: str
    reason: str


def _head_text(dialect: str) -> Any:
    """The first bytes of the raw message as text a LIKE can search."""
    if dialect == "postgresql":
        return func.encode(HEAD, "escape")
    return func.cast(HEAD, Text)


def _filtered(view: str, q: str | None, dialect: str) -> Any:
    query = select(InboundMessage, HEAD).options(defer(InboundMessage.raw))  # type: ignore[arg-type]
    status = col(InboundMessage.status)
    if view == "problems":
        query = query.where(status.in_([InboundStatus.QUARANTINED, InboundStatus.UNMATCHED]))
    elif view == "unverified":
        query = query.where(
            status == InboundStatus.QUARANTINED,
            col(InboundMessage.reason).like("unverified_sender%"),
        )
    elif view in ("quarantined", "unmatched", "ignored"):
        query = query.where(status == view)
    else:
        query = query.where(status != InboundStatus.RECEIVED)
    if q:
        needle = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(col(InboundMessage.envelope_from)).like(needle),
                func.lower(_head_text(dialect)).like(needle),
            )
        )
    return query


def list_page(session: Session, params: Any, locale: str) -> Page:
    """One page of the list for the query string `params`."""
    wanted = SPEC.read(params)
    if wanted.filters.get("view") not in VIEWS:
        wanted.filters["view"] = "problems"
    dialect = session.get_bind().dialect.name
    query = _filtered(wanted.filters["view"], wanted.filters.get("q"), dialect)
    page = paginate(session, query, wanted, SPEC)
    rows = []
    for message, head in page.rows:
        sender, subject = staff.sender_and_subject(bytes(head) if head else None)
        rows.append(
            Row(
                message,
                sender or message.envelope_from or message.mailbox or "—",
                subject or "—",
                reason_text(locale, message.reason) if message.reason else "",
            )
        )
    return Page(rows, page.total, page.wanted)


@dataclass(frozen=True)
class Detail:
    """One message for its page."""

    message: InboundMessage
    headers: list[tuple[str, str]]
    text: str
    html: str | None
    reason: str
    reading: list[tuple[str, str]]
    request: SurveyRequest | None
    contact: Contact | None
    found: list[tuple[SurveyRequest, Contact, Task | None]]


def _reading(
    settings: Settings, session: Session, raw: bytes, row: InboundMessage, locale: str
) -> tuple[str, list[tuple[str, str]]]:
    """The visible text and what it reads as on the survey of its (likely) request, labelled
    in the reader's words."""
    from mailflow.inbound.matching import sender_candidate
    from parsers import interpret, read_message

    w = console_words(locale)
    msg = read_message(raw, envelope_to=tuple(p for p in (row.envelope_to or "").split(",") if p))
    rows = [(w["con_in_kind"], msg.kind)]
    request = session.get(SurveyRequest, row.request_id) if row.request_id else None
    request = request or sender_candidate(session, msg)
    survey = None
    if request is not None:
        try:
            survey = settings.survey(request.survey_key)
        except KeyError:
            survey = None
    if request is not None and survey is not None:
        reading = interpret(msg, survey.spec())
        rows.append((w["con_survey"], f"{survey.key} · {w['con_in_request']} #{request.id}"))
        if reading.error:
            rows.append((w["con_in_reason"], reason_text(locale, str(reading.error))))
        if reading.score is not None:
            rows.append((w["con_in_score"], str(reading.score)))
        rows += [(k, str(v)) for k, v in reading.answers.items() if k != "score"]
        if reading.comment:
            rows.append((w["con_in_comment"], reading.comment))
    return msg.visible_text[:MAX_TEXT], rows


def detail(
    session: Session, settings: Settings, inbound_id: int, locale: str, find: str
) -> Detail | None:
    """The message with its headers, text, HTML and reading; requests matching `find`."""
    row = session.get(InboundMessage, inbound_id)
    if row is None:
        return None
    raw = bytes(row.raw)
    parsed = message_from_bytes(raw, policy=default)
    headers = []
    for name, value in parsed.items():
        try:
            headers.append((name, " ".join(str(value).split())[:2000]))
        except (ValueError, TypeError, LookupError):
            headers.append((name, "(unreadable)"))
    text, reading = _reading(settings, session, raw, row, locale)
    html = html_part(raw)
    request = session.get(SurveyRequest, row.request_id) if row.request_id else None
    contact = session.get(Contact, request.contact_id) if request else None
    return Detail(
        row,
        headers[:200],
        text,
        sanitise(html) if html else None,
        reason_text(locale, row.reason) if row.reason else "",
        reading,
        request,
        contact,
        find_requests(session, find) if find else [],
    )


def find_requests(session: Session, find: str) -> list[tuple[SurveyRequest, Contact, Task | None]]:
    """Requests of contacts whose email or name contains `find`, or of a ticket numbered so."""
    needle = f"%{find.strip().lower()[:200]}%"
    query = (
        select(SurveyRequest, Contact, Task)
        .join(Contact, col(Contact.id) == SurveyRequest.contact_id)
        .outerjoin(Task, col(Task.id) == SurveyRequest.ticket_id)
        .where(
            or_(
                func.lower(Contact.email).like(needle),
                func.lower(Contact.name).like(needle),
                col(Task.external_ref) == find.strip(),
            )
        )
        .order_by(col(SurveyRequest.id).desc())
        .limit(20)
    )
    return [tuple(r) for r in session.exec(query)]  # type: ignore[misc]


@router.get(BASE, response_class=HTMLResponse)
async def inbound_list(request: Request, user: User = Depends(guard)) -> HTMLResponse:
    """The list; view, search, sort and page live in the query string."""
    locale = _locale(request, user)
    page = await web(request).run_db(lambda s: list_page(s, request.query_params, locale))
    done = request.query_params.get("done", "")
    refused = request.query_params.get("refused", "")[:300]
    return admin_page(
        request,
        user,
        "inbound/list.html",
        c=console_words(locale),
        page=page,
        views=VIEWS,
        done=done if done.isdigit() else "",
        refused=refused,
        back=str(request.url.query),
    )


@router.get(BASE + "/{inbound_id}", response_class=HTMLResponse)
async def inbound_detail(
    inbound_id: DbId, request: Request, find: str = "", user: User = Depends(guard)
) -> HTMLResponse:
    """One message; `find` searches requests to attach it to."""
    ctx = web(request)
    locale = _locale(request, user)
    found = await ctx.run_db(lambda s: detail(s, ctx.settings, inbound_id, locale, find[:200]))
    if found is None:
        return _missing(request, user)
    return admin_page(
        request,
        user,
        "inbound/detail.html",
        c=console_words(locale),
        d=found,
        find=find[:200],
        done=request.query_params.get("done", "")[:20],
        refused=request.query_params.get("refused", "")[:300],
    )


def _missing(request: Request, user: User) -> HTMLResponse:
    c = console_words(_locale(request, user))
    return admin_page(request, user, "inbound/missing.html", c=c, status_code=404)


@router.get(BASE + "/{inbound_id}/raw")
async def inbound_raw(inbound_id: DbId, request: Request, user: User = Depends(guard)) -> Response:
    """The stored bytes as a download (never rendered by the browser)."""
    raw = await web(request).run_db(
        lambda s: s.exec(select(InboundMessage.raw).where(InboundMessage.id == inbound_id)).first()
    )
    if raw is None:
        return _missing(request, user)
    return Response(
        bytes(raw),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="inbound-{inbound_id}.eml"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _one(settings: Settings, engine: Any, inbound_id: int, action: str, by: str) -> str | None:
    """Do one action; None when done, else why not (in the worker's words)."""
    try:
        if action == "retry":
            outcome = retry(settings, engine, inbound_id)
        elif action == "accept":
            outcome = accept(settings, engine, inbound_id)
        else:
            return None if staff.dismiss(engine, inbound_id, by=by) else "not open"
    except RetryRefused as exc:
        return str(exc)
    if outcome is None:
        return "changed meanwhile"
    if action == "accept" and outcome.status != InboundStatus.PARSED:
        return outcome.reason or outcome.status
    return None


async def _run(request: Request, work: Any) -> Any:
    """The shared worker functions open their own sessions: run them off the event loop."""
    return await run_in_threadpool(work)


@router.post(BASE + "/bulk")
async def inbound_bulk(request: Request, user: User = Depends(guard)) -> Response:
    """retry | accept | dismiss for every checked message; back to the same list."""
    ctx = web(request)
    form = await request.form()
    action = form.get("action")
    back = form.get("back")
    back = back if isinstance(back, str) and "\n" not in back and "\r" not in back else ""
    ids = [int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()][:MAX_BULK]
    if action not in ACTIONS:
        return RedirectResponse(f"{BASE}?{back}", status_code=303)
    results = await _run(
        request,
        lambda: [_one(ctx.settings, ctx.engine, i, str(action), user.username) for i in ids],
    )
    done = sum(1 for r in results if r is None)
    refusals = [f"#{i}: {r}" for i, r in zip(ids, results, strict=True) if r is not None]
    query = "&".join(p for p in back.split("&") if p and not p.startswith(("done=", "refused=")))
    target = f"{BASE}?{query}&done={done}" + (
        f"&refused={quote('; '.join(refusals)[:300])}" if refusals else ""
    )
    return RedirectResponse(target, status_code=303)


@router.post(BASE + "/{inbound_id}/{action}")
async def inbound_action(
    inbound_id: DbId, action: str, request: Request, user: User = Depends(guard)
) -> Response:
    """retry | accept | dismiss | attach (with request_id) one message."""
    ctx = web(request)
    if action not in (*ACTIONS, "attach"):
        return _missing(request, user)
    if action == "attach":
        form = await request.form()
        raw_id = form.get("request_id")
        request_id = int(raw_id) if isinstance(raw_id, str) and raw_id.isdigit() else 0

        def work() -> str | None:
            try:
                outcome = staff.attach(ctx.settings, ctx.engine, inbound_id, request_id)
            except RetryRefused as exc:
                return str(exc)
            return None if outcome.status == InboundStatus.PARSED else outcome.reason

        why = await _run(request, work)
    else:
        why = await _run(
            request, lambda: _one(ctx.settings, ctx.engine, inbound_id, action, user.username)
        )
    target = f"{BASE}/{inbound_id}?done={action}"
    if why:
        target += f"&refused={quote(why[:300])}"
    return RedirectResponse(target, status_code=303)
