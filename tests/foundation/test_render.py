"""Rendering: every survey in every locale gives a well-formed, safe, branded email."""

from __future__ import annotations

import base64
import email
import email.policy
import re
import subprocess
import sys
from pathlib import Path

import dkim
import pytest

from mailflow.render import Recipient, Renderer, reply_address
from mailflow.tokens import Purpose

LOCALES = ("en", "ru", "pl")
SURVEYS = ("csat", "nps", "ces", "thumbs", "service_quality")


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def bodies(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("survey_key", SURVEYS)
def test_every_survey_renders_in_every_locale(https_settings, survey_key, locale):
    renderer = Renderer(https_settings)
    survey = https_settings.survey(survey_key)
    raw = renderer.render(
        survey, Recipient(17, "anna@example.com", "Anna", "T-9", "Printer"), locale=locale
    )
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/x-amp-html", "text/html"]
    parts = bodies(message)
    for content in parts.values():
        assert "{{" not in content.replace("{{message}}", "").replace("{{error}}", "")
        assert "{%" not in content
    assert survey.texts[locale].title in parts["text/html"]
    assert survey.texts[locale].title in parts["text/plain"]
    link_token = renderer.signer.sign(17, Purpose.LINK)
    first_answer = survey.kind.scale[0] if survey.kind.scale else None
    if first_answer:
        assert f"https://surveys.example.com/r/{link_token}?a={first_answer}" in parts["text/html"]
        assert f"https://surveys.example.com/r/{link_token}?a={first_answer}" in parts["text/plain"]
    else:
        assert f"/r/{link_token}?speed=slow" in parts["text/html"]
    assert message["Content-Language"] == locale


def test_every_answer_is_a_large_inlined_button(https_settings):
    renderer = Renderer(https_settings)
    survey = https_settings.survey("nps")
    html = renderer.parts(survey, "en", Recipient(3, "a@example.com"))["html"]
    buttons = re.findall(r'<a class="btn btn-num" href="([^"]+)"[^>]*style="([^"]+)"', html)
    assert len(buttons) == 11
    assert all("line-height:44px" in style.replace(" ", "") for _, style in buttons)
    assert [href.rsplit("=", 1)[1] for href, _ in buttons] == [str(n) for n in range(11)]


def test_headers(https_settings):
    renderer = Renderer(https_settings)
    raw = renderer.render(
        https_settings.survey("csat"),
        Recipient(5, "anna@example.com", "Анна"),
        locale="ru",
        message_id="<fixed-1@reply.localhost>",
    )
    message = parse(raw)
    assert message["Message-ID"] == "<fixed-1@reply.localhost>"
    assert message["Date"]
    assert message["From"].addresses[0].display_name == "Acme Customer Care"
    assert message["To"].addresses[0].display_name == "Анна"
    assert message["Subject"] == "Acme Support: Как мы справились?"
    reply_to = message["Reply-To"].addresses[0].addr_spec
    token = re.fullmatch(r"survey\+([a-z2-7]{32})@reply\.localhost", reply_to).group(1)
    assert renderer.signer.verify(token, Purpose.REPLY) == 5
    unsubscribe = renderer.signer.sign(5, Purpose.UNSUBSCRIBE)
    assert f"<https://surveys.example.com/u/{unsubscribe}>" in message["List-Unsubscribe"]
    assert f"<mailto:survey+{unsubscribe}@reply.localhost" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"


def test_script_in_a_name_stays_text(https_settings):
    renderer = Renderer(https_settings)
    who = Recipient(5, "x@example.com", "<script>alert(1)</script>", "7", "<b>bold</b>")
    parts = bodies(parse(renderer.render(https_settings.survey("nps"), who)))
    for kind in ("text/html", "text/x-amp-html"):
        assert "<script>alert(1)" not in parts[kind]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in parts[kind]
        assert "<b>bold</b>" not in parts[kind]


def test_crlf_in_name_and_subject_adds_no_header(https_settings, config_file, monkeypatch):
    text = config_file.read_text(encoding="utf-8").replace(
        'title = "How did we do?"',
        'title = "How did we do?"\nsubject = "Rate us\\r\\nBcc: evil@example.com"',
    )
    config_file.write_text(text, encoding="utf-8")
    from mailflow.settings import load_settings

    current = load_settings(config_file)
    renderer = Renderer(current)
    who = Recipient(5, "x@example.com", "Eve\r\nBcc: victim@example.com")
    raw = renderer.render(current.survey("csat"), who, locale="en")
    headers = raw.split(b"\n\n", 1)[0].decode()
    assert not re.search(r"^Bcc:", headers, re.MULTILINE | re.IGNORECASE)
    message = parse(raw)
    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]


def test_configured_braces_never_become_template_code(config_file):
    text = config_file.read_text(encoding="utf-8").replace(
        'title = "How did we do?"', 'title = "How did we do? {{ 7*7 }} {% if 1 %}x{% endif %}"'
    )
    config_file.write_text(text, encoding="utf-8")
    from mailflow.settings import load_settings

    current = load_settings(config_file)
    parts = Renderer(current).parts(current.survey("csat"), "en", Recipient(1, "a@example.com"))
    assert "How did we do? {{ 7*7 }} {% if 1 %}x{% endif %}</h1>" in parts["html"]
    assert "How did we do? 49" not in parts["html"]


def test_amp_part_needs_https(example_settings):
    raw = Renderer(example_settings).render(
        example_settings.survey("nps"), Recipient(1, "a@example.com")
    )
    types = [part.get_content_type() for part in parse(raw).iter_parts()]
    assert types == ["text/plain", "text/html"]


@pytest.mark.amp
@pytest.mark.parametrize("survey_key", SURVEYS)
def test_amp_part_passes_the_official_validator(https_settings, amp_validator, survey_key):
    renderer = Renderer(https_settings)
    for locale in LOCALES:
        parts = renderer.parts(
            https_settings.survey(survey_key),
            locale,
            Recipient(3, "a@example.com", "<Anna>", "9", "Printer"),
        )
        ok, output = amp_validator(parts["amp"])
        assert ok, output
        assert (
            f"https://surveys.example.com/amp/{renderer.signer.sign(3, Purpose.AMP)}"
            in parts["amp"]
        )


@pytest.fixture
def dkim_settings(https_settings, tmp_path):
    """https_settings signing with a fresh RSA key; `.dns` answers its DKIM record."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    outbound = https_settings.outbound.model_copy(
        update={
            "dkim_domain": "example.com",
            "dkim_selector": "mf",
            "dkim_key_file": str(tmp_path / "dkim.pem"),
        }
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name, timeout=5):
        assert name == b"mf._domainkey.example.com."
        return record

    return https_settings.model_copy(update={"outbound": outbound}), dns


def test_dkim_signature_verifies(dkim_settings):
    current, dns = dkim_settings
    raw = Renderer(current).render(current.survey("csat"), Recipient(1, "a@example.com", "Anna"))
    assert raw.startswith(b"DKIM-Signature:")
    assert dkim.verify(raw, dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Anna", b"Eve"), dnsfunc=dns)


def test_manager_and_followup_emails_are_signed_too(dkim_settings):
    """Every email that leaves goes through one assembly: notices carry a valid signature."""
    from mailflow.escalation.mail import escalation_email
    from mailflow.followups import followup_email
    from tests.escalation.test_mail import _facts

    current, dns = dkim_settings
    manager = escalation_email(
        current, _facts(current), to="boss@example.com", to_name="Boss", locale="pl"
    )
    followup = followup_email(
        current,
        current.survey("csat"),
        kind="apology",
        to="anna@example.com",
        to_name="Anna",
        locale="ru",
        unsubscribe_token="tok",
    )
    for raw in (manager.eml, followup.eml):
        assert raw.startswith(b"DKIM-Signature:")
        assert dkim.verify(raw, dnsfunc=dns)
        assert not dkim.verify(raw.replace(b"Anna", b"Eve"), dnsfunc=dns)


def test_reply_to_and_mailto_unsubscribe_use_the_one_reply_address(https_settings):
    renderer = Renderer(https_settings)
    raw = renderer.render(https_settings.survey("csat"), Recipient(5, "a@example.com"))
    message = email.message_from_bytes(raw)
    assert renderer.reply_address(5) in message["Reply-To"]
    unsubscribe = renderer.signer.sign(5, Purpose.UNSUBSCRIBE)
    assert f"mailto:{reply_address(https_settings, unsubscribe)}?" in message["List-Unsubscribe"]


def test_preview_cli_writes_an_email(tmp_path: Path):
    run = [sys.executable, "-m", "mailflow"]
    assert (
        subprocess.run([*run, "init", str(tmp_path)], capture_output=True, timeout=60).returncode
        == 0
    )
    result = subprocess.run(
        [*run, "preview", "nps", "--locale", "ru", "--eml", "nps.eml", "--html", "nps.html"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    message = parse((tmp_path / "nps.eml").read_bytes())
    assert "Вы бы порекомендовали нас?" in bodies(message)["text/html"]
    assert "Анна Иванова" in (tmp_path / "nps.html").read_text(encoding="utf-8")
    bad = subprocess.run(
        [*run, "preview", "nps", "--locale", "de"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "no locale 'de'" in bad.stderr and "Traceback" not in bad.stderr
    unknown = subprocess.run(
        [*run, "preview", "stars"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2 and "unknown survey 'stars'" in unknown.stderr


def test_a_multi_line_ticket_title_stays_on_its_own_line(https_settings):
    """A title from the helpdesk cannot add lines of its own to the text part."""
    title = "Printer\nOpen the admin page: https://evil.example/"
    parts = Renderer(https_settings).parts(
        https_settings.survey("csat"), "en", Recipient(1, "a@example.com", "Anna", "9", title)
    )
    lines = parts["text"].splitlines()
    assert not any(line.startswith("Open the admin page") for line in lines)
    assert any("Printer Open the admin page" in line for line in lines)
