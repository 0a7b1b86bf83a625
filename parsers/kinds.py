"""What a message is, decided by an ordered chain of small named rules (Mailman style).

Machines first: delivery reports and auto-replies must never become ratings, so they are
recognised before anything looks at the text. Each rule answers "does this apply, and why"
with a reason string (or None), and can be tested alone on an `Evidence`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message

from parsers.bounces import is_nonstandard_bounce
from parsers.mime import LENIENT_ERRORS, Bodies, header
from parsers.rules import first_reason
from parsers.scores import without_noise
from parsers.types import Kind


@dataclass
class Evidence:
    """What the rules look at: the MIME tree, a few headers and the decoded bodies."""

    msg: Message
    subject: str = ""
    from_header: str = ""
    in_reply_to: str | None = None
    bodies: Bodies = field(default_factory=Bodies)
    body_text: str = ""  # the whole readable body (text, or flattened html)
    visible_text: str = ""
    form_fields: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str:
        return header(self.msg, name)


class Rule:
    """One named test of the shape parsers.rules.Rule over Evidence, plus the kind of message
    it recognises; `check` returns a reason when the rule applies, else None."""

    name: str = ""
    kind: Kind = "unknown"
    description: str = ""

    def check(self, ev: Evidence) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


class DeliveryReport(Rule):
    name, kind = "delivery_report", "bounce"
    description = "multipart/report; report-type=delivery-status (RFC 3464 DSN)"

    def check(self, ev: Evidence) -> str | None:
        try:
            ctype = ev.msg.get_content_type()
            report = (ev.msg.get_param("report-type") or "") if ctype == "multipart/report" else ""
        except LENIENT_ERRORS:
            return None
        if ctype == "multipart/report" and str(report).lower() == "delivery-status":
            return "delivery-status report"
        if ev.bodies.delivery_status and ctype.startswith("multipart/"):
            return "delivery-status part"
        return None


_SES_BOUNCE = re.compile(r'"notificationType"\s*:\s*"Bounce"')


class MailerDaemonBounce(Rule):
    name, kind = "mailer_daemon_bounce", "bounce"
    description = (
        "a non-standard bounce: from MAILER-DAEMON/postmaster about a failure, or an "
        "Amazon SES bounce notification forwarded as mail"
    )

    def check(self, ev: Evidence) -> str | None:
        if is_nonstandard_bounce(ev.from_header, ev.subject):
            return "mailer-daemon failure notice"
        if "amazonaws.com" in ev.from_header.lower() and _SES_BOUNCE.search(ev.body_text):
            return "amazon ses bounce notification"
        return None


_AUTO_SUBJECT = re.compile(
    r"out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"on vacation|away from (?:the )?office|^\s*auto\s*:|"  # HCL/Lotus Notes: "Auto: <subject>"
    r"автоматический ответ|автоответ|нет на месте|отпуск|вне офиса|"
    r"odpowied[źz] automatyczna|automatyczna odpowied[źz]|autoodpowied[źz]|poza biurem|"
    r"nieobecno[śs][ćc]|urlop|"
    # the big mail clients' other languages: their auto-replies reach us all the same
    r"automatische antwort|abwesenheitsnotiz|réponse automatique|respuesta automática|"
    r"risposta automatica|resposta automática|automatisch antwoord|autosvar|"
    r"automaattinen vastaus|automatická odpověď|automatikus válasz|"
    # helpdesk acknowledgements and challenge-response robots
    r"request received|ticket received|we(?:'ve| have) received your (?:request|message|e-?mail)|"
    r"обращение (?:получено|зарегистрировано)|zgłoszenie (?:zostało )?(?:przyjęte|zarejestrowane)|"
    r"\[verify\]|please verify|verify your (?:e-?mail|message)|подтвердите отправку",
    re.I,
)
# Helpdesk systems' own mail: their notifications never answer a survey.
_HELPDESK_MAILER = re.compile(r"zendesk|freshdesk|helpscout|jira service|servicenow|otrs|"
                              r"usedesk|omnidesk|okdesk", re.I)
# Vacation notices sent without any auto-reply header (webmail "I am away" filters, copied
# by hand): said in the present tense at the top of the new text.
_AWAY_TEXT = re.compile(
    r"(?:^|[.!]\s+|\n)\s*"
    r"(?:(?:hello|hi|dear \w+|thank you for your (?:e-?mail|message)|thanks for your "
    r"(?:e-?mail|message)|здравствуйте|добрый день|dzień dobry|witam)[,.!]?\s*)?"
    r"((?:i am|i'm|i will be|i'll be)\s+(?:currently\s+|now\s+)?(?:out of (?:the )?office|"
    r"away from (?:the )?office|on (?:annual |parental |sick |maternity )?(?:leave|vacation|"
    r"holiday)|away until|out until)|"
    r"меня (?:сейчас )?нет в офисе|"
    r"(?:jestem|przebywam)\s+(?:obecnie\s+)?(?:na urlopie|poza biurem|na zwolnieniu|"
    r"w delegacji)|nie ma mnie w biurze)",
    re.I,
)


class AutoSubmitted(Rule):
    name, kind = "auto_submitted", "auto_reply"
    description = "RFC 3834 Auto-Submitted: auto-replied (vacation notices, autoresponders)"
    replied = True

    def check(self, ev: Evidence) -> str | None:
        value = ev.header("Auto-Submitted").strip().lower().split(";")[0].strip()
        if value and value != "no" and (value == "auto-replied") is self.replied:
            return f"auto-submitted: {value}"
        return None


class AutoGenerated(AutoSubmitted):
    name = "auto_generated"
    description = "RFC 3834 Auto-Submitted with any other value (auto-generated, auto-notified)"
    replied = False


# The headers autoresponders set besides RFC 3834's (Yandex, cPanel, Zimbra, Exchange, …).
_AUTO_HEADERS = (
    "X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Autogenerated",
    "X-Mail-Autoreply", "X-Yandex-Autoreply", "X-Autoreply-From",
)  # fmt: skip


class AutoReplyHeaders(Rule):
    name, kind = "auto_reply_headers", "auto_reply"
    description = (
        "X-Autoreply and its kin, X-Precedence: auto_reply, X-POST-MessageClass: Autoresponder,"
        " X-Auto-Response-Suppress: All|OOF"
    )

    def check(self, ev: Evidence) -> str | None:
        for name in _AUTO_HEADERS:
            value = ev.header(name).strip().lower()
            if value and value not in ("no", "false", "0"):
                return f"{name.lower()}: {value}"
        for name in ("X-Precedence", "X-POST-MessageClass"):
            value = ev.header(name).strip().lower()
            if "auto_reply" in value or "autoresponder" in value:
                return f"{name.lower()}: {value}"
        mailer = ev.header("X-Mailer")
        if _HELPDESK_MAILER.search(mailer) or ev.header("X-Freshdesk-Ticket-Id"):
            return f"helpdesk notification: {(mailer or 'freshdesk').strip().lower()}"
        suppress = ev.header("X-Auto-Response-Suppress").lower()
        if any(word in suppress for word in ("all", "oof")):
            return f"x-auto-response-suppress: {suppress.strip()}"
        return None


class BulkPrecedence(Rule):
    name, kind = "bulk_precedence", "auto_reply"
    description = "Precedence: bulk, auto_reply or junk"

    def check(self, ev: Evidence) -> str | None:
        value = ev.header("Precedence").strip().lower()
        if value in ("bulk", "auto_reply", "auto-reply", "junk"):
            return f"precedence: {value}"
        return None


class OutOfOfficeSubject(Rule):
    name, kind = "out_of_office_subject", "auto_reply"
    description = "an out-of-office subject in en/ru/pl"

    def check(self, ev: Evidence) -> str | None:
        found = _AUTO_SUBJECT.search(ev.subject)
        return f"subject: {found.group(0).lower()}" if found else None


# Said only by vacation notices, wherever they stand in the first lines.
_AWAY_PHRASES = re.compile(
    r"(?:i am|i'm|i will be|i'll be)\s+(?:\w+\s+){0,3}?(?:out of (?:the )?office|away until|"
    r"travell?ing (?:on business|for work)|on a business trip)|"
    r"^\s*out of (?:the )?office\b|"
    r"я\s+(?:сейчас\s+)?(?:в отпуске|в командировке|на больничном|вне офиса)|"
    r"nicht im büro|abwesend|außer haus|absent du bureau|"
    r"(?:enter|type) the \d+ characters|"
    r"will be back in the office|(?:with )?(?:no|limited) access to (?:my )?e-?mail|"
    r"(?:upon|on|after) my return|"
    r"(?:я\s+)?нахожусь\s+(?:в отпуске|в командировке|на больничном|вне офиса)|"
    r"с ограниченным доступом к (?:электронной )?почте|после (?:моего )?возвращения|"
    r"(?:jestem|będę)\s+nieobecn[ya]|przebywam\s+(?:\w+\s+){0,2}?na urlopie|"
    r"po (?:moim )?powrocie|z ograniczonym dostępem do (?:poczty|e-?maila)",
    re.I,
)
# A reply that opens with a score ("10! I'm out of the office till Monday, but…") is an
# answer; one that opens with a date ("9-13 March: I'm on a business trip", "10.03") is not,
# and dates are what the score reader's noise masking blanks out.
_OPENS_WITH_SCORE = re.compile(r"(?<!\s)\s*+(?:\d{1,2}(?!\d)|[0-9]\ufe0f?\u20e3|\U0001f51f|[★⭐])")


class OutOfOfficeText(Rule):
    name, kind = "out_of_office_text", "auto_reply"
    description = "a header-less vacation notice: 'I am out of the office' at the top (en/ru/pl)"

    def check(self, ev: Evidence) -> str | None:
        head = ev.visible_text[:400]
        if _OPENS_WITH_SCORE.match(without_noise(head)):
            return None
        found = _AWAY_TEXT.search(head)
        phrase = found.group(1) if found else None
        if phrase is None:
            more = _AWAY_PHRASES.search(head)
            phrase = more.group(0) if more else None
        return f"text: {' '.join(phrase.split()).lower()}" if phrase else None


# Helpdesk acknowledgements sent without any auto-reply header (Zendesk "Your request (123)
# has been received", Freshdesk "we have received your request and a ticket has been
# created", Jira Service Management, OTRS, Bitrix24/1C, Planfix, Usedesk, Omnidesk). The
# statement is about *your* request in the second person; bounded gaps keep it linear.
_ACK_STATEMENT = re.compile(
    r"\byour\s+(?:support\s+)?(?:request|ticket|case|enquiry|inquiry|query|message|"
    r"e-?mail|issue)\b[^.\n]{0,40}?\b(?:has been|have been|was|is|is now)\s+"
    r"(?:successfully\s+)?(?:received|registered|created|logged|submitted|opened|recorded|"
    r"accepted)\b"
    r"|\bwe(?:'ve| have)?\s+(?:successfully\s+)?received\s+your\s+(?:support\s+)?(?:request|"
    r"ticket|message|e-?mail|enquiry|inquiry|query)"
    r"|\back?nowledge\s+(?:that\s+we\s+have\s+)?(?:the\s+)?receiv\w{0,4}\s+(?:of\s+)?your"
    r"|\b(?:request|ticket|case)\s+(?:#|no\.?|number)\s*[\w-]{1,20}\s+has\s+been\s+"
    r"(?:created|opened|logged|registered|received)"
    r"|ваш[еаи]?\s+(?:обращение|заявка|запрос|тикет|письмо)\b[^.\n]{0,40}?"
    r"(?:зарегистрирован[оаы]?|принят[оаы]?|получен[оаы]?|создан[оаы]?)(?!\w)"
    r"|(?:обращение|заявка|запрос)\s+(?:№|#|номер)\s*[\w-]{1,20}\s+"
    r"(?:зарегистрирован[оаы]?|принят[оаы]?|получен[оаы]?|создан[оаы]?)(?!\w)"
    r"|(?:мы\s+)?получили\s+ваш[еау]?\s+(?:обращение|заявку|письмо|сообщение|запрос)"
    r"|(?:twoje|pana|pani|państwa)\s+(?:zgłoszenie|wiadomość|zapytanie)\b[^.\n]{0,40}?"
    r"(?:został[oa]\s+)?(?:przyjęt[ea]|zarejestrowan[ea]|otrzyman[ea]|utworzon[ea])(?!\w)"
    r"|zgłoszenie\s+(?:nr\.?|#)\s*[\w-]{1,20}\s+(?:zostało\s+)?(?:przyjęte|zarejestrowane)"
    r"|otrzymaliśmy\s+(?:twoje|pana|pani|państwa)\s+(?:zgłoszenie|wiadomość|zapytanie)",
    re.I,
)
# ... and the structure around it: a ticket number, a promised response time, or the
# helpdesk's own reply marker.
_ACK_STRUCTURE = re.compile(
    r"(?:#|№|\bnr\.?|\bno\.|ticket\s*(?:id|number|no)|request\s*(?:id|number)|номер\w{0,3}|"
    r"numer\w{0,3})\s*+[:#]?\s*+\[?[A-Z]{0,10}-?\d{2,}"
    r"|\[(?:ticket#|#)?[A-Z]{0,10}-?\d{2,}(?:-\d+)?\]"
    r"|\bwithin\s+(?:\d{1,3}|one|two|three|a few|24|48)\s+(?:business\s+|working\s+)?"
    r"(?:hours?|days?)|\busually\s+within\b|\bas soon as possible\b"
    r"|в\s+течени[еи]\s+(?:\d{1,3}\s+)?(?:рабоч\w{0,4}\s+)?(?:дн\w{0,2}|дня|час\w{0,3}|суток)"
    r"|в\s+ближайшее\s+время|в\s+порядке\s+очереди"
    r"|w\s+ciągu\s+(?:\d{1,3}\s+)?(?:dni|dnia|godzin\w{0,2})|najszybciej\s+jak"
    r"|reply\s+above\s+this\s+line|type\s+your\s+reply\s+above|ответьте\s+выше\s+этой\s+строки"
    r"|do\s+not\s+reply|не\s+отвечайте|nie\s+odpowiadaj",
    re.I,
)


class Acknowledgement(Rule):
    name, kind = "acknowledgement", "auto_reply"
    description = (
        "a helpdesk's receipt of a request (en/ru/pl) without auto-reply headers: 'your "
        "request has been received' with a ticket number or a promised response time"
    )

    def check(self, ev: Evidence) -> str | None:
        if _OPENS_WITH_SCORE.match(without_noise(ev.visible_text[:400])):
            return None
        head = f"{ev.subject}\n{ev.visible_text[:3000]}"  # not a quoted ack in a reply
        said = _ACK_STATEMENT.search(head)
        if said is None or _ACK_STRUCTURE.search(head) is None:
            return None
        return f"acknowledgement: {' '.join(said.group(0).split()).lower()[:80]}"


_REPORT_TYPES = ("feedback-report", "tlsrpt")
_DMARC_SUBJECT = re.compile(r"^\s*report\s+domain\s*:|\bdmarc\b.{0,40}\breport\b", re.I)
_REPORT_FILE = re.compile(r"![\w.-]{1,255}!\d{6,}!\d{6,}", re.I)  # google.com!example.com!t0!t1


class MachineReport(Rule):
    name, kind = "machine_report", "auto_reply"
    description = "DMARC aggregate, TLS-RPT and ARF abuse/feedback reports"

    def check(self, ev: Evidence) -> str | None:
        try:
            report = str(ev.msg.get_param("report-type") or "").lower()
            parts = list(ev.msg.walk())[:50]
            types = {part.get_content_type() for part in parts}
            names = " ".join(str(part.get_filename() or "") for part in parts)
        except LENIENT_ERRORS:
            return None
        if report in _REPORT_TYPES or "message/feedback-report" in types:
            return f"{report or 'feedback'} report"
        if _DMARC_SUBJECT.search(ev.subject) or _REPORT_FILE.search(names):
            return "dmarc aggregate report"
        return None


_READ_SUBJECT = re.compile(
    r"^\s*(?:read|not read|read receipt|прочитано|не прочитано|przeczytane|przeczytano|"
    r"nieprzeczytane|gelesen|lu)\s*:",
    re.I,
)


class ReadReceipt(Rule):
    name, kind = "read_receipt", "auto_reply"
    description = "a read receipt: RFC 8098 disposition-notification, or Outlook's 'Read:'"

    def check(self, ev: Evidence) -> str | None:
        try:
            report = str(ev.msg.get_param("report-type") or "").lower()
            types = {part.get_content_type() for part in ev.msg.walk()}
        except LENIENT_ERRORS:
            return None
        if report == "disposition-notification" or "message/disposition-notification" in types:
            return "read receipt (disposition-notification)"
        if _READ_SUBJECT.match(ev.subject):
            return "read receipt (subject)"
        return None


_GOOGLE_FROM = re.compile(r"forms-receipts-noreply@google\.com|forms-noreply@google\.com", re.I)
_GOOGLE_BODY = re.compile(
    r"docs\.google\.com/forms|forms\.gle/|google forms|formularze google|google формы|"
    r"email notifications for forms|form notifications|formnotifications",
    re.I,
)


class GoogleFormResult(Rule):
    name, kind = "google_form_result", "google_form"
    description = "a Google Forms result: owner notification, respondent copy or add-on mail"

    def check(self, ev: Evidence) -> str | None:
        if _GOOGLE_FROM.search(ev.from_header):
            return "from google forms"
        if ev.form_fields and (
            _GOOGLE_BODY.search(ev.from_header)
            or _GOOGLE_BODY.search(ev.subject)
            or _GOOGLE_BODY.search(ev.bodies.html or ev.body_text)
        ):
            return "google forms markers with answers"
        return None


_FORM_SENDER = re.compile(
    r"no-?reply|do-?not-?reply|wordpress@|website|site@|forms?@|webflow|tilda|wix|"
    r"contact-?form|wpforms|notifications?@|jotform|typeform|hubspot|formspree|netlify|"
    r"elementor|^email@|\bemail@|bitrix",
    re.I,
)
_FORM_SUBJECT = re.compile(
    r"\bform|submission|new (?:message|entry|lead|request|response)|заявк|с сайта|обратн|"
    r"форм[аыу]|web-форм|новый ответ|nowa odpowiedź|"
    r"formularz|zgłoszeni|nowa wiadomość|nowe zgłoszenie",
    re.I,
)
REPLY_SUBJECT = re.compile(r"^\s*(?:re|ответ|odp|aw|sv)\s*:", re.I)


class WebFormResult(Rule):
    name, kind = "web_form_result", "web_form"
    description = (
        "a website form mail: label/value pairs from a form-ish sender or subject, or three "
        "and more pairs in a message that answers nothing"
    )

    def check(self, ev: Evidence) -> str | None:
        if len(ev.form_fields) < 2 or ev.in_reply_to:
            return None
        form_sender = _FORM_SENDER.search(ev.from_header)
        if REPLY_SUBJECT.match(ev.subject) and not form_sender:  # Jotform says "Re: Form"
            return None
        if form_sender:
            return "form fields from a no-reply/website sender"
        if _FORM_SUBJECT.search(ev.subject):
            return "form fields with a form subject"
        if len(ev.form_fields) >= 3:
            return "form fields in a message that replies to nothing"
        return None


class HumanText(Rule):
    name, kind = "human_text", "reply"
    description = "anything with readable text is a reply"

    def check(self, ev: Evidence) -> str | None:
        return "readable text" if ev.body_text.strip() or ev.visible_text.strip() else None


BOUNCE_RULES: tuple[Rule, ...] = (DeliveryReport(), MailerDaemonBounce())
AUTO_REPLY_RULES: tuple[Rule, ...] = (
    AutoSubmitted(),
    AutoReplyHeaders(),
    OutOfOfficeSubject(),
    OutOfOfficeText(),
    ReadReceipt(),
    MachineReport(),
    Acknowledgement(),
)
# Machine-sent but possibly the answer itself: a form tool's notification may rightly say
# Auto-Submitted: auto-generated or Precedence: bulk, so those are weighed after web forms.
GENERATED_RULES: tuple[Rule, ...] = (AutoGenerated(), BulkPrecedence())
# Google's own form mail is recognised before the auto-reply headers: it is machine-sent
# (and may say so in Auto-Submitted) yet it is exactly the answer we are waiting for.
CHAIN: tuple[Rule, ...] = (
    *BOUNCE_RULES,
    GoogleFormResult(),
    *AUTO_REPLY_RULES,
    WebFormResult(),
    *GENERATED_RULES,
    HumanText(),
)


def classify(ev: Evidence, rules: tuple[Rule, ...] = CHAIN) -> tuple[Kind, Rule | None, str]:
    """The first rule that applies: (kind, rule, reason); ("unknown", None, "") otherwise."""
    hit = first_reason(rules, ev)
    if hit is None:
        return "unknown", None, ""
    rule, reason = hit
    return rule.kind, rule, reason
