"""render: complete survey emails (Renderer.render, MIME bytes) vs Jinja2 alone and premailer.

Ours: a fresh Renderer rendering N complete emails: three parts, signed tokens, headers,
quoted-printable bodies. Like the baselines' template compile, its one-time compile per survey
and locale (Jinja2 + premailer, once) runs before the clock and is printed on its own.
Baseline 1, "Jinja2 alone": the same HTML template (email_templates/survey/csat.html with its
layout) rendered by Jinja2 per recipient with the same values: no CSS inlining, no text or
AMP part, no MIME — what rendering the template per recipient costs at the least.
Baseline 2, "premailer per email": that Jinja2 render followed by premailer per email, the
naive way to inline CSS, measured on 100 emails and scaled to N.
Ratios are throughput ours / baseline.
"""

from __future__ import annotations

import argparse
import logging
import string
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import premailer
from jinja2 import Environment, FileSystemLoader, StrictUndefined

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import email_templates
from mailflow.render import Recipient, Renderer
from mailflow.settings import load_settings

TARGET, PREMAILER_TARGET = 0.5, 50
LOCALE = "en"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="500 emails instead of 2,000")
    count = 500 if parser.parse_args().quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        template = resources.files("mailflow").joinpath("example_config.toml").read_text("utf-8")
        config = Path(tmp) / "mailflow.toml"
        config.write_text(string.Template(template).substitute(secret="r" * 40), "utf-8")
        settings = load_settings(config)
    survey = settings.survey("csat")
    people = [
        Recipient(i + 1, f"c{i}@example.com", f"Client {i}", str(1000 + i), f"Ticket {i}")
        for i in range(count)
    ]

    # Each side compiles its templates before the clock runs (the baselines' get_template is
    # outside their loops too); our one-time compile per survey and locale is printed apart.
    started = time.perf_counter()
    renderer = Renderer(settings)
    renderer.compiled(survey, LOCALE)
    compile_s = time.perf_counter() - started
    started = time.perf_counter()
    total_bytes = sum(len(renderer.render(survey, who, locale=LOCALE)) for who in people)
    ours = time.perf_counter() - started

    env = Environment(
        loader=FileSystemLoader(str(email_templates.TEMPLATE_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
    )
    html_template = env.get_template(f"survey/{survey.type}.html")
    css = (email_templates.TEMPLATE_DIR / "brand.css").read_text(encoding="utf-8")

    def naive_html(who: Recipient) -> str:
        context = renderer._static_context(survey, LOCALE)
        values = renderer.values(survey, LOCALE, who)
        context.update(css=css, ph=SimpleNamespace(**values), form_url="")
        return html_template.render(context)

    started = time.perf_counter()
    for who in people:
        naive_html(who)
    jinja = time.perf_counter() - started

    sample = min(100, count)
    started = time.perf_counter()
    for who in people[:sample]:
        premailer.transform(
            naive_html(who),
            allow_network=False,
            remove_classes=False,
            disable_validation=True,
            cssutils_logging_level=logging.CRITICAL,
        )
    premail = (time.perf_counter() - started) * count / sample

    print(
        f"Renderer.render: {count} emails ({total_bytes // count} bytes each) in {ours:.2f}s "
        f"({count / ours:.0f}/s); one-time compile (Jinja2 + premailer) {compile_s * 1000:.0f} ms"
    )
    print(f"Jinja2 alone (same HTML template): {count} in {jinja:.2f}s ({count / jinja:.0f}/s)")
    print(
        f"Jinja2 + premailer per email: {count} (scaled from {sample}) in {premail:.2f}s "
        f"({count / premail:.0f}/s)"
    )
    print(
        f"render vs premailer per email: ratio {premail / ours:.1f} (target >= {PREMAILER_TARGET})"
    )
    print(f"render: ratio {jinja / ours:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()
