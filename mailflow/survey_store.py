"""Surveys as data: each survey a Survey row, each saved state a SurveyVersion holding the whole
validated SurveyConfig as JSON (so fields added to the model later need no schema change).

The surveys of mailflow.toml are imported once, on the first start with an empty table. From
then on the database is the truth: `LiveSurveys.refresh()` puts the current versions into
`settings.surveys` (which events, triggers, rendering, reports and campaigns read), checking a
cheap revision number (the newest version id) at most once per `interval` seconds, so every
process follows an edit made in any other. A survey request records the version it was asked
with (SurveyRequest.survey_version_id; `LiveSurveys.version_id(key)`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from mailflow.settings import LOGO_TYPES, BrandSettings, Settings
from mailflow.surveys import SurveyConfig
from storage.clock import utcnow
from storage.engine import session_scope
from storage.models import BrandRecord, Survey, SurveyVersion

TOML_AUTHOR = "mailflow.toml"
log = logging.getLogger(__name__)


class SurveyInputError(ValueError):
    """A survey that does not validate; `field` names where, str() is safe to show."""

    def __init__(self, field: str, message: str, key: str | None = None):
        super().__init__(f"{f'survey {key}: ' if key else ''}{field}: {message}")
        self.field, self.message, self.key = field, message, key


def validate_survey(data: dict[str, Any], locales: list[str]) -> SurveyConfig:
    """A SurveyConfig from plain data, every locale's texts required; SurveyInputError else."""
    key = data.get("key") if isinstance(data.get("key"), str) else None
    try:
        config = SurveyConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "survey"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        if ": " in message and not first.get("loc"):
            field, message = message.split(": ", 1)
        raise SurveyInputError(field, message, key) from None
    try:
        config.check_locales(locales)
    except ValueError as exc:
        field, message = str(exc).split(": ", 1)
        raise SurveyInputError(field, message, key) from None
    return config


def _document(config: SurveyConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude_none=True)


def _changes(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """What changed between two documents, as the dotted fields (for the version's summary)."""
    if old is None:
        return "created"
    changed: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for name in sorted(set(a) | set(b)):
                walk(a.get(name), b.get(name), f"{path}.{name}" if path else name)
        elif a != b:
            changed.append(path or "survey")

    walk(old, new, "")
    return ", ".join(changed[:12]) + (" …" if len(changed) > 12 else "") if changed else ""


def current_versions(session: Session) -> list[SurveyVersion]:
    """The current version of every survey, by key."""
    query = (
        select(SurveyVersion)
        .join(Survey, col(Survey.current_version_id) == SurveyVersion.id)
        .order_by(col(Survey.key))
    )
    return list(session.exec(query))


def current_configs(session: Session) -> list[SurveyConfig]:
    """Every survey's current configuration."""
    return [SurveyConfig.model_validate(v.config) for v in current_versions(session)]


def history(session: Session, key: str) -> list[SurveyVersion]:
    """Every version of a survey, newest first."""
    query = (
        select(SurveyVersion)
        .join(Survey, col(Survey.id) == SurveyVersion.survey_id)
        .where(Survey.key == key)
        .order_by(col(SurveyVersion.number).desc())
    )
    return list(session.exec(query))


def save_survey(
    session: Session, config: SurveyConfig, author: str, summary: str | None = None
) -> SurveyVersion | None:
    """A new version of `config.key` (the survey is created when new); None when nothing
    changed. `summary` defaults to the fields that changed."""
    survey = session.exec(select(Survey).where(Survey.key == config.key)).first()
    document = _document(config)
    previous = session.get(SurveyVersion, survey.current_version_id) if survey else None
    if previous is not None and previous.config == document:
        return None
    if survey is None:
        survey = Survey(key=config.key)
        session.add(survey)
        session.flush()
    number = (previous.number if previous else 0) + 1
    latest = session.exec(
        select(func.max(SurveyVersion.number)).where(SurveyVersion.survey_id == survey.id)
    ).one()
    number = max(number, (latest or 0) + 1)
    version = SurveyVersion(
        survey_id=survey.id,  # type: ignore[arg-type]
        number=number,
        config=document,
        author=author[:100],
        summary=summary
        if summary is not None
        else _changes(previous.config if previous else None, document),
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    survey.current_version_id = version.id
    session.add(survey)
    return version


def revision(session: Session) -> int:
    """A number that grows with every saved version (the newest version's id; 0 for none);
    LiveSurveys adds the brand's revision above bit 32."""
    return int(session.exec(select(func.max(SurveyVersion.id))).one() or 0)


def import_configured(session: Session, settings: Settings) -> int:
    """On the first start (no survey stored yet), store mailflow.toml's surveys; how many."""
    if session.exec(select(Survey.id).limit(1)).first() is not None:
        return 0
    for config in settings.surveys:
        save_survey(session, config, TOML_AUTHOR, "imported from mailflow.toml")
    return len(settings.surveys)


def import_surveys(
    session: Session, data: dict[str, Any], locales: list[str], author: str
) -> list[str]:
    """Store the `surveys` of a TOML document (a surveys.toml or a mailflow.toml); the keys
    that got a new version. Everything is validated before anything is stored."""
    items = data.get("surveys")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SurveyInputError("surveys", "no [[surveys]] tables in the file")
    configs = [validate_survey(item, locales) for item in items]
    seen: set[str] = set()
    for config in configs:
        if config.key in seen:
            raise SurveyInputError("key", "appears twice in the file", config.key)
        seen.add(config.key)
    return [c.key for c in configs if save_survey(session, c, author, None) is not None]


# --- TOML out --------------------------------------------------------------------------------
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _table(path: str, data: dict[str, Any], lines: list[str], array: bool) -> None:
    lines.append(f"[[{path}]]" if array else f"[{path}]")
    nested: list[tuple[str, Any]] = []
    for name, value in data.items():
        many = isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        if (isinstance(value, dict) and value) or many:
            nested.append((name, value))  # a sub-table, after this table's own keys
        else:
            lines.append(f"{_key(name)} = {_value(value)}")
    for name, value in nested:
        child = f"{path}.{_key(name)}"
        if isinstance(value, list):
            for item in value:
                lines.append("")
                _table(child, item, lines, True)
        else:
            lines.append("")
            _table(child, value, lines, False)


def surveys_toml(configs: list[SurveyConfig]) -> str:
    """The surveys as TOML that `mailflow surveys import` (and mailflow.toml) reads back."""
    lines = ["# Mailflow surveys: `mailflow surveys import FILE` stores them as new versions."]
    for config in configs:
        lines.append("")
        _table("surveys", _document(config), lines, True)
    return "\n".join(lines) + "\n"


# --- every process follows the database --------------------------------------------------
class LiveSurveys:
    """Keeps `settings.surveys` equal to the database's current versions."""

    def __init__(self, settings: Settings, engine: Engine, interval: float = 1.0):
        self.settings, self.engine, self.interval = settings, engine, interval
        self.seen = -1
        self.checked = 0.0
        self.versions: dict[str, int] = {}
        self._lock = threading.Lock()

    def start(self) -> int:
        """Import mailflow.toml's surveys when none is stored, then load; how many imported.
        A database that does not answer (yet) leaves mailflow.toml's surveys in use and the
        next refresh() tries again; /healthz reports the database."""
        try:
            with session_scope(self.engine) as session:
                imported = import_configured(session, self.settings)
        except SQLAlchemyError as exc:
            log.warning("surveys: the database did not answer (%s); using mailflow.toml's", exc)
            return 0
        self.refresh(force=True)
        return imported

    def due(self) -> bool:
        """Whether the next refresh() would look at the database."""
        return time.monotonic() - self.checked >= self.interval

    def refresh(self, force: bool = False) -> bool:
        """Reload when a version was saved since the last look; True when it reloaded."""
        now = time.monotonic()
        if not force and now - self.checked < self.interval:
            return False
        with self._lock:
            self.checked = now
            try:
                with session_scope(self.engine) as session:
                    if self.seen < 0:
                        import_configured(session, self.settings)
                    brand = brand_record(session)
                    current = revision(session) + (brand.revision << 32 if brand else 0)
                    if current == self.seen and not force:
                        return False
                    versions = current_versions(session)
            except SQLAlchemyError as exc:
                log.warning("surveys: could not look for new versions (%s)", exc)
                return False
            configs = [SurveyConfig.model_validate(v.config) for v in versions]
            self.settings.surveys[:] = configs
            apply_brand(self.settings, brand)
            self.versions = {
                c.key: v.id for c, v in zip(configs, versions, strict=True) if v.id is not None
            }
            self.seen = current
            return True

    def version_id(self, key: str) -> int | None:
        """The id of the version of `key` in use (for SurveyRequest.survey_version_id)."""
        return self.versions.get(key)


_LIVE: dict[int, LiveSurveys] = {}  # one per Settings object (per process, in practice)
_LIVE_LOCK = threading.Lock()


def live_for(settings: Settings, engine: Engine) -> LiveSurveys:
    """The process's LiveSurveys for `settings`, started (imported, loaded) on first use."""
    with _LIVE_LOCK:
        found = _LIVE.get(id(settings))
        if found is not None and found.settings is settings:
            return found
        found = _LIVE[id(settings)] = LiveSurveys(settings, engine)
    found.start()
    return found


def follow(settings: Settings, engine: Engine, *, limit: int = 0) -> int:
    """A worker step: pick up survey versions saved elsewhere (0: it processes no rows)."""
    live_for(settings, engine).refresh()
    return 0


def version_in_use(settings: Settings, key: str) -> int | None:
    """The id of the SurveyVersion of `key` this process uses; None before surveys are live."""
    live = _LIVE.get(id(settings))
    return live.version_id(key) if live is not None and live.settings is settings else None


# --- the brand ---------------------------------------------------------------------------------
BRAND_FIELDS = ("company", "sender_name", "color", "address")
LOGO_LIMIT = 512 * 1024


def brand_record(session: Session) -> BrandRecord | None:
    """The brand as edited in the browser, if it ever was."""
    return session.exec(select(BrandRecord).order_by(col(BrandRecord.id)).limit(1)).first()


def save_brand(
    session: Session,
    fields: dict[str, str],
    author: str,
    logo: tuple[bytes, str] | None = None,
) -> BrandRecord:
    """Store the brand's fields (validated by BrandSettings first) and optionally a logo."""
    record = brand_record(session) or BrandRecord(config={}, revision=0)
    config = {k: v for k, v in fields.items() if k in BRAND_FIELDS}
    BrandSettings.model_validate(config)  # ValidationError names the field
    record.config = config
    record.revision += 1
    if logo is not None:
        record.logo, record.logo_type = logo
    record.updated_by, record.updated_at = author[:100], utcnow()
    session.add(record)
    session.flush()
    return record


def apply_brand(settings: Settings, record: BrandRecord | None) -> None:
    """Lay the stored brand over mailflow.toml's (pages and new emails read settings.brand)."""
    if record is None:
        return
    update: dict[str, Any] = dict(record.config)
    if record.logo and record.logo_type:
        update["logo_file"] = str(_logo_file(record.logo, record.logo_type))
    settings.brand = settings.brand.model_copy(update=update)


def _logo_file(logo: bytes, media_type: str) -> Path:
    """The stored logo as a file named by its hash (so /brand/logo serves it like a configured
    one); every process writes its own copy once."""
    suffix = next((s for s, t in LOGO_TYPES.items() if t == media_type), ".png")
    path = (
        Path(tempfile.gettempdir())
        / f"mailflow-logo-{hashlib.sha256(logo).hexdigest()[:20]}{suffix}"
    )
    if not path.exists():
        partial = path.with_suffix(path.suffix + f".{os.getpid()}")
        partial.write_bytes(logo)
        partial.replace(path)
    return path
