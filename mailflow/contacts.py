"""Contacts and employees: created on first sight, found again by address or external id.

One contact per address (lowercased), so one thread per contact. Creation relies on the unique
constraints: an insert that loses a race is rolled back to its savepoint and the winner's row
is read instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from storage.clock import utcnow
from storage.models import Contact, Employee, SurveyRequest, Task
from storage.states import RequestState


class ContactNotFound(Exception):
    """No contact with this id or address."""


class MergeRefused(Exception):
    """The two references name the same contact."""


@dataclass(frozen=True)
class ContactData:
    """What an event tells us about a client."""

    email: str
    name: str | None = None
    locale: str | None = None
    vip: bool | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class EmployeeData:
    """What an event tells us about the agent working the ticket."""

    name: str
    email: str | None = None
    external_id: str | None = None


def normalise_email(address: str) -> str:
    """The stored form of an address: stripped and lowercased."""
    return address.strip().lower()


def checked_address(address: str) -> str:
    """An address as the world writes it (IDN domains, Unicode local parts), normalised by
    email-validator (NFC, domain in Unicode form) and lowercased; ValueError says what is
    wrong with a malformed one. Syntax only: no DNS, and intranet domains are allowed."""
    try:
        checked = validate_email(
            address.strip(), check_deliverability=False, globally_deliverable=False
        )
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return normalise_email(checked.normalized)


# An address in the configuration, checked and normalised by `checked_address` like every
# address that comes in through an event (a malformed one stops start-up naming its key).
EmailAddress = Annotated[str, AfterValidator(checked_address)]


def _find_contact(session: Session, email: str, external_id: str | None) -> Contact | None:
    if external_id:
        found = session.exec(select(Contact).where(Contact.external_id == external_id)).first()
        if found is not None:
            return found
    return session.exec(select(Contact).where(Contact.email == email)).first()


def upsert_contact(session: Session, data: ContactData) -> Contact:
    """The contact for this address or external id, created or refreshed with what we know."""
    email = normalise_email(data.email)
    contact = _find_contact(session, email, data.external_id)
    if contact is None:
        contact = Contact(
            email=email,
            name=data.name,
            locale=data.locale,
            vip=bool(data.vip),
            external_id=data.external_id,
        )
        try:
            with session.begin_nested():
                session.add(contact)
        except IntegrityError:  # a concurrent event created it first
            contact = _find_contact(session, email, data.external_id)
            if contact is None:
                raise
        else:
            return contact
    if data.name:
        contact.name = data.name
    if data.locale:
        contact.locale = data.locale
    if data.vip is not None:
        contact.vip = data.vip
    if data.external_id and contact.external_id is None:
        contact.external_id = data.external_id
    session.add(contact)
    return contact


def _find_employee(session: Session, data: EmployeeData) -> Employee | None:
    if data.external_id:
        found = session.exec(
            select(Employee).where(Employee.external_id == data.external_id)
        ).first()
        if found is not None:
            return found
    if data.email:
        email = normalise_email(data.email)
        return session.exec(select(Employee).where(Employee.email == email)).first()
    return None


def upsert_employee(session: Session, data: EmployeeData) -> Employee:
    """The employee for this address or external id, created on first sight."""
    employee = _find_employee(session, data)
    if employee is None:
        employee = Employee(
            name=data.name,
            email=normalise_email(data.email) if data.email else None,
            external_id=data.external_id,
        )
        try:
            with session.begin_nested():
                session.add(employee)
        except IntegrityError:
            employee = _find_employee(session, data)
            if employee is None:
                raise
        else:
            return employee
    if data.name:
        employee.name = data.name
    if data.external_id and employee.external_id is None:
        employee.external_id = data.external_id
    session.add(employee)
    return employee


def find_contact(session: Session, ref: str) -> Contact:
    """A contact by id (digits), address or external id; ContactNotFound otherwise."""
    ref = ref.strip()
    contact: Contact | None = None
    if ref.isdigit():
        contact = session.get(Contact, int(ref))
    if contact is None:
        contact = _find_contact(session, normalise_email(ref), ref)
    if contact is None:
        raise ContactNotFound(f"no contact '{ref}'")
    return contact


def merge_contacts(session: Session, keep_ref: str, drop_ref: str) -> tuple[Contact, int, int]:
    """Move B's requests and tickets to A and delete B; returns (A, requests, tickets moved)."""
    keep, drop = find_contact(session, keep_ref), find_contact(session, drop_ref)
    if keep.id == drop.id:
        raise MergeRefused("both references name the same contact")
    moved_requests = session.exec(
        update(SurveyRequest)
        .where(col(SurveyRequest.contact_id) == drop.id)
        .values(contact_id=keep.id)
    ).rowcount
    moved_tasks = session.exec(
        update(Task).where(col(Task.contact_id) == drop.id).values(contact_id=keep.id)
    ).rowcount
    keep.vip = keep.vip or drop.vip
    keep.name = keep.name or drop.name
    keep.locale = keep.locale or drop.locale
    keep.unsubscribed_at = keep.unsubscribed_at or drop.unsubscribed_at
    external_id = keep.external_id or drop.external_id
    session.exec(delete(Contact).where(col(Contact.id) == drop.id))
    session.flush()
    keep.external_id = external_id
    session.add(keep)
    return keep, moved_requests or 0, moved_tasks or 0


UNSUBSCRIBED_REASON = "contact unsubscribed"  # the words the send-time check stores too


def unsubscribe(session: Session, contact: Contact) -> bool:
    """Mark the contact unsubscribed and suppress their surveys not yet sent, so `mailflow
    requests --state suppressed` shows them at once; False when they were already (the first
    time is kept). A request already being sent is left to the send-time check."""
    if contact.unsubscribed_at is not None:
        return False
    contact.unsubscribed_at = utcnow()
    session.add(contact)
    session.execute(
        update(SurveyRequest)
        .where(
            col(SurveyRequest.contact_id) == contact.id,
            col(SurveyRequest.state) == RequestState.SCHEDULED,
        )
        .values(state=RequestState.SUPPRESSED, reason=UNSUBSCRIBED_REASON)
    )
    return True


def resubscribe(session: Session, contact: Contact) -> bool:
    """Undo an unsubscribe (staff, at the client's request); False when there was none.
    Requests suppressed meanwhile stay suppressed: new events ask again."""
    if contact.unsubscribed_at is None:
        return False
    contact.unsubscribed_at = None
    session.add(contact)
    return True


def unbounce(session: Session, contact: Contact) -> bool:
    """Clear the contact's bounce (the address was fixed, or a bounce was wrong), so surveys
    go to it again; False when it had none. Requests already bounced stay as they were."""
    if contact.bounced_at is None and contact.bounce_reason is None:
        return False
    contact.bounced_at, contact.bounce_reason = None, None
    session.add(contact)
    return True


@dataclass(frozen=True)
class ContactSummary:
    """What `mailflow contacts show` prints about one contact."""

    id: int
    email: str
    name: str | None
    locale: str | None
    vip: bool
    bounced_at: datetime | None
    bounce_reason: str | None
    unsubscribed_at: datetime | None
    requests: int


def contact_summary(session: Session, ref: str) -> ContactSummary:
    """The contact `ref` names (id, address or external id) and how many requests it has."""
    contact = find_contact(session, ref)
    count = session.exec(
        select(func.count())
        .select_from(SurveyRequest)
        .where(SurveyRequest.contact_id == contact.id)
    ).one()
    assert contact.id is not None
    return ContactSummary(
        id=contact.id,
        email=contact.email,
        name=contact.name,
        locale=contact.locale,
        vip=contact.vip,
        bounced_at=contact.bounced_at,
        bounce_reason=contact.bounce_reason,
        unsubscribed_at=contact.unsubscribed_at,
        requests=int(count),
    )
