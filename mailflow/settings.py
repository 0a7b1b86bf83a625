"""Typed settings from mailflow.toml and MAILFLOW_* variables (the environment wins).

`load_settings()` is called once at start-up; any problem becomes a `ConfigError` whose one
line names the file, the survey and the field. Nothing here reads the environment at import.
"""

from __future__ import annotations

import re
import tomllib
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mailflow.contacts import EmailAddress
from mailflow.surveys import SurveyConfig

DEFAULT_CONFIG = "mailflow.toml"
LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
MIN_SECRET_KEY_BYTES = 32  # tokens, CSRF fields and sessions are only as strong as the key
Section = ConfigDict(extra="forbid")


def split_hostport(value: str, default_port: int) -> tuple[str, int]:
    """A listen address as (host, port): '127.0.0.1:8000' -> ('127.0.0.1', 8000)."""
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host.strip("[]"), int(port)


class ConfigError(Exception):
    """Configuration that cannot start Mailflow; str() is the one line to show."""

    def __init__(self, file: str, field: str, message: str, survey: str | None = None):
        self.file, self.field, self.message, self.survey = file, field, message, survey
        where = f"survey '{survey}': " if survey else ""
        super().__init__(f"{file}: {where}{field}: {message}")


class BrandSettings(BaseModel):
    """How every email and page looks and who it is from."""

    model_config = Section

    company: str = "Mailflow Demo Support"
    sender_name: str = "Customer Care"
    sender_email: EmailAddress = "support@example.com"
    logo_url: str | None = None  # in emails (mail clients load it themselves)
    # On the web pages the logo is served by Mailflow itself (/brand/logo), so no other host
    # learns when a client opens a rating link: a PNG, JPEG, GIF or SVG file.
    logo_file: str | None = None
    color: str = Field(default="#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")
    # One text for every locale, or a table locale -> text; None uses the built-in wording.
    footer: str | dict[str, str] | None = None
    address: str | None = None

    @field_validator("logo_file")
    @classmethod
    def _logo_readable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value)
        if path.suffix.lower() not in LOGO_TYPES:
            raise ValueError(f"'{value}': a .png, .jpg, .gif or .svg file, please")
        if not path.is_file():
            raise ValueError(f"'{value}': no such file")
        return str(path.resolve())

    def footer_for(self, locale: str, default: str) -> str:
        """The footer line in a locale."""
        if isinstance(self.footer, dict):
            return self.footer.get(locale) or default
        return self.footer or default


class OutboundSettings(BaseModel):
    """Where survey mail goes and how hard we try."""

    model_config = Section

    transport: Literal["maildir", "smtp", "memory"] = "maildir"
    maildir: str = "outbox"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 30
    concurrency: int = Field(default=4, ge=1, le=64)
    batch_size: int = Field(default=50, ge=1, le=1000)
    max_attempts: int = Field(default=6, ge=1)
    retry_base_seconds: float = Field(default=60, ge=0)
    # Renewed every third of itself while a row is worked on, so a killed worker's rows are
    # free again within this many seconds.
    lease_seconds: float = Field(default=60, gt=0)
    cap_days: int = Field(default=7, ge=0)
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    dkim_key_file: str | None = None
    # A relay that cannot be reached pauses sending (rows keep their attempts): first pause,
    # doubled per failed try, up to the longest.
    relay_pause_base_seconds: float = Field(default=5, gt=0)
    relay_pause_max_seconds: float = Field(default=300, ge=0)
    # A campaign run missed while nothing was up is caught up on start within this grace.
    campaign_grace_hours: float = Field(default=24, ge=0)


class ImapMailbox(BaseModel):
    """One mailbox the poller watches for forwarded form results and replies."""

    model_config = Section

    name: str
    host: str
    port: int = 993
    tls: bool = True
    user: str
    password: SecretStr
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    failed_folder: str = "Failed"
    poll_seconds: float = Field(default=60, gt=0)
    idle: bool = True


class InboundSettings(BaseModel):
    """The SMTP listener and IMAP mailboxes answers arrive through."""

    model_config = Section

    smtp_listen: str = "127.0.0.1:2525"
    smtp_enabled: bool = True
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # Raw mail of processed messages is pruned after this many days (the parsed result, the
    # sender, subject and status are kept); 0 keeps it forever.
    keep_raw_days: int = Field(default=90, ge=0)
    # Listener limits (per client IP and per message); over them a client gets a 4xx and
    # retries later, so nothing is lost. `trusted_relays` (IP networks: the MTA in front of
    # the listener, loopback by default) are exempt from the per-IP limits.
    trusted_relays: list[IPvAnyNetwork] = Field(
        default_factory=lambda: [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]
    )
    max_connections_per_ip: int = Field(default=20, ge=1)
    messages_per_ip_per_minute: int = Field(default=300, ge=1)
    max_recipients: int = Field(default=100, ge=1)
    # Seconds a session may wait between commands; NOOP, RSET, HELP and VRFY do not count.
    idle_timeout_seconds: float = Field(default=120, gt=0)
    tls_cert: str | None = None
    tls_key: str | None = None
    auth_users: dict[str, SecretStr] = Field(default_factory=dict)
    imap: list[ImapMailbox] = Field(default_factory=list)
    # authserv-ids (RFC 8601) whose Authentication-Results dkim=pass / dmarc=pass prove a
    # sender, e.g. ["mx.example.com"] for the MTA in front of Mailflow; none by default.
    trusted_authserv_ids: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _auth_needs_tls(self) -> InboundSettings:
        # AUTH is only ever offered after STARTTLS, so users without a certificate could never
        # log in: say so at start-up rather than leave a forwarding host failing for ever.
        if self.auth_users and not (self.tls_cert and self.tls_key):
            raise ValueError(
                "inbound.auth_users needs inbound.tls_cert and inbound.tls_key "
                "(AUTH is offered only over TLS)"
            )
        return self


class DatabaseSettings(BaseModel):
    """Connection pools (PostgreSQL; SQLite uses SQLAlchemy's own). The main pool serves
    answers, the API and the worker; reports (dashboard, report API, export) have their own
    small pool with a shorter statement timeout, so rating links never queue behind them."""

    model_config = Section

    pool_size: int = Field(default=10, ge=1, le=1000)
    max_overflow: int = Field(default=10, ge=0, le=1000)
    pool_timeout: float = Field(default=30, gt=0)  # seconds to wait for a free connection
    statement_timeout: float = Field(default=30, ge=0)  # seconds per statement; 0 = none
    reporting_pool_size: int = Field(default=3, ge=1, le=100)
    reporting_pool_timeout: float = Field(default=10, gt=0)
    reporting_statement_timeout: float = Field(default=60, ge=0)


class TelegramSettings(BaseModel):
    """The Telegram channel (Bot API). Off unless a bot token is set; updates come by long
    polling (getUpdates) or by webhook at /telegram/<webhook_path> with the secret token
    header. `api_base_url` is Telegram's unless a test points it at a local Bot API server."""

    model_config = Section

    bot_token: SecretStr | None = None
    bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    updates: Literal["polling", "webhook"] = "polling"
    webhook_path: SecretStr | None = None
    webhook_secret_token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    poll_timeout_seconds: int = Field(default=25, ge=0, le=50)
    max_attempts: int = Field(default=6, ge=1)
    retry_base_seconds: float = Field(default=10, ge=0)

    @model_validator(mode="after")
    def _webhook_needs_secrets(self) -> TelegramSettings:
        if self.bot_token is not None and self.updates == "webhook":
            for name in ("webhook_path", "webhook_secret_token"):
                value = getattr(self, name)
                if value is None or len(value.get_secret_value()) < 16:
                    raise ValueError(f"telegram.{name}: at least 16 characters for webhooks")
            token = self.webhook_secret_token
            if token is not None and not re.fullmatch(
                r"[A-Za-z0-9_-]{1,256}", token.get_secret_value()
            ):
                raise ValueError("telegram.webhook_secret_token: only A-Z, a-z, 0-9, _ and -")
        return self

    @property
    def enabled(self) -> bool:
        """Whether the channel runs (a bot token is configured)."""
        return self.bot_token is not None


class WebSettings(BaseModel):
    """The web app: where it listens, the public URL links point to, abuse limits."""

    model_config = Section

    listen: str = "127.0.0.1:8000"
    base_url: str = "http://127.0.0.1:8000"
    rate_limit_per_minute: int = Field(default=30, ge=1)
    comment_max_length: int = Field(default=2000, ge=1)
    session_hours: float = Field(default=12, gt=0)
    # Mail clients whose AMP forms may post (CORS v1); empty = the built-in list.
    amp_allowed_origins: list[str] = Field(default_factory=list)
    # Proxies whose X-Forwarded-For/-Proto are believed (addresses or networks); none by
    # default, so a client can never pick its own address to dodge a rate limit.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Sign-in attempts per minute per client address and per username; after a failure the
    # next attempt for that username waits login_backoff_seconds, doubling with each failure.
    login_attempts_per_minute: int = Field(default=10, ge=1)
    login_backoff_seconds: float = Field(default=1, ge=0)
    login_backoff_max_seconds: float = Field(default=300, ge=0)
    unsubscribe_limit_per_minute: int = Field(default=30, ge=1)
    # Request bodies: the JSON API, and every other route (forms).
    api_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    form_max_bytes: int = Field(default=64 * 1024, ge=1024)
    # The dashboard marks a figure resting on fewer answers than this as "too few answers".
    report_min_answers: int = Field(default=5, ge=1)


class WebhookSettings(BaseModel):
    """One webhook subscription; deliveries are signed with its secret."""

    model_config = Section

    url: str
    secret: SecretStr
    events: list[
        Literal[
            "response.created",
            "response.negative",
            "escalation.created",
            "request.bounced",
            "escalation.updated",


            "response.reasons",
        ]
    ]
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: float = Field(default=30, ge=0)
    timeout_seconds: float = Field(default=10, gt=0)


class ManagerSettings(BaseModel):
    """A manager known by address: how the Employee is created on first escalation."""

    model_config = Section

    email: EmailAddress
    name: str | None = None
    locale: str | None = None
    notify_email: bool = True


class EscalationSettings(BaseModel):
    """Who gets negative answers: per team (after the employee's own manager), then per survey
    (`escalate_to`), then `default_manager`; and where ticket links point."""

    model_config = Section

    team_managers: dict[str, EmailAddress] = Field(default_factory=dict)
    managers: list[ManagerSettings] = Field(default_factory=list)
    ticket_url: str | None = None


class Settings(BaseSettings):
    """Everything Mailflow needs to run, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="MAILFLOW_", env_nested_delimiter="__", extra="forbid"
    )

    secret_keys: list[SecretStr] = Field(min_length=1)
    database_url: str = "sqlite:///./mailflow.db"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    reply_domain: str = "reply.localhost"
    reply_local_part: str = "survey"
    message_id_domain: str | None = None
    locales: list[str] = Field(default_factory=lambda: ["en", "ru", "pl"], min_length=1)
    default_locale: str = "en"
    timezone: str = "UTC"
    default_manager: EmailAddress | None = None
    brand: BrandSettings = Field(default_factory=BrandSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    inbound: InboundSettings = Field(default_factory=InboundSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    surveys: list[SurveyConfig] = Field(default_factory=list)
    config_file: str = DEFAULT_CONFIG

    @model_validator(mode="after")
    def _strong_secret_keys(self) -> Settings:
        for n, key in enumerate(self.secret_keys):
            if len(key.get_secret_value().encode("utf-8")) < MIN_SECRET_KEY_BYTES:
                raise ValueError(
                    f"secret_keys.{n}: shorter than {MIN_SECRET_KEY_BYTES} bytes; use a random "
                    "value such as `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
                )
        return self

    @model_validator(mode="after")
    def _unique_surveys(self) -> Settings:
        seen: set[str] = set()
        for survey in self.surveys:
            if survey.key in seen:
                raise ValueError(f"duplicate survey key '{survey.key}'")
            seen.add(survey.key)
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale: '{self.default_locale}' is not in locales")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone: '{self.timezone}' is not a time zone (e.g. Europe/Warsaw, UTC)"
            ) from None
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The time zone reports, periods and the dashboard speak in."""
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, which is passed in as init values.
        return (env_settings, init_settings)

    def survey(self, key: str) -> SurveyConfig:
        """The survey with this key, or KeyError."""
        for survey in self.surveys:
            if survey.key == key:
                return survey
        raise KeyError(key)

    @property
    def msgid_domain(self) -> str:
        """The domain of our Message-IDs (so replies' In-Reply-To can be recognised)."""
        return self.message_id_domain or self.reply_domain

    def sqlite_path(self) -> Path | None:
        """The SQLite file when the database is SQLite on disk."""
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


def _survey_key(raw: dict[str, Any], index: object) -> str | None:
    surveys = raw.get("surveys")
    if isinstance(index, int) and isinstance(surveys, list) and index < len(surveys):
        item = surveys[index]
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            return item["key"]
        return f"#{index + 1}"
    return None


def _config_error(file: str, raw: dict[str, Any], error: ValidationError) -> ConfigError:
    """Turn pydantic's first error into one line naming file, survey and field."""
    first = error.errors(include_url=False)[0]
    loc = list(first.get("loc", ()))
    message = first.get("msg", "invalid")
    message = message.removeprefix("Value error, ")
    survey = None
    if loc[:1] == ["surveys"] and len(loc) > 1:
        survey = _survey_key(raw, loc[1])
        loc = loc[2:]
    field = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
    if first.get("type") == "extra_forbidden":
        message = "unknown field"
    if first.get("type") == "missing":
        message = "required"
    if not field and ": " in message:
        field, message = message.split(": ", 1)
    if not field and message.startswith("duplicate survey key"):
        field, survey = "key", message.split("'")[1]
        message = "duplicate survey key"
    return ConfigError(file, field or "(top level)", message, survey)


def load_settings(path: str | Path | None = None, *, require_file: bool = True) -> Settings:
    """Read and validate mailflow.toml (or `path`) with MAILFLOW_* overrides."""
    file = Path(path or DEFAULT_CONFIG)
    raw: dict[str, Any] = {}
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(file), "(syntax)", str(exc)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(file), "(file)", str(exc)) from None
    elif require_file:
        raise ConfigError(str(file), "(file)", "not found; run `mailflow init` to create one")
    else:
        raw = {"secret_keys": ["unconfigured-" + "0" * 32]}
    mailflow_section = raw.pop("mailflow", {})
    if isinstance(mailflow_section, dict):
        raw = {**mailflow_section, **raw}
    try:
        settings = Settings(**raw, config_file=str(file))
        for survey in settings.surveys:
            try:
                survey.check_locales(settings.locales)
            except ValueError as exc:
                field, message = str(exc).split(": ", 1)
                raise ConfigError(str(file), field, message, survey.key) from None
    except ValidationError as exc:
        raise _config_error(str(file), raw, exc) from None
    return settings
