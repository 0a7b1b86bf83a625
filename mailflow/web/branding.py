"""/admin/branding (admins and managers): the company name, sender name, colour, address and
the logo, stored in the database (mailflow.survey_store.save_brand) and laid over
mailflow.toml's [brand] in every process; the logo is served by Mailflow at /brand/logo.
Uploads are PNG, JPEG or GIF (checked by their first bytes, not their name), at most 512 KB;
SVG is refused, since a script inside one would run on our own origin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mailflow.i18n import t
from mailflow.survey_store import BRAND_FIELDS, LOGO_LIMIT, brand_record, live_for, save_brand
from mailflow.web.auth import admin_page
from mailflow.web.context import web
from mailflow.web.guards import require_role, require_role_csrf
from storage.models import User

router = APIRouter(include_in_schema=False)
staff_only = require_role("admin", "manager")
staff_post = require_role_csrf("admin", "manager")
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def logo_type(data: bytes) -> str | None:
    """The media type of a PNG, JPEG or GIF by its first bytes; None for anything else."""
    return next((kind for magic, kind in MAGIC if data.startswith(magic)), None)


def _values(request: Request) -> dict[str, str]:
    brand = web(request).settings.brand
    return {name: str(getattr(brand, name) or "") for name in BRAND_FIELDS}


def _page(
    request: Request,
    user: User,
    values: dict[str, str],
    errors: dict[str, str],
    notice: str | None = None,
    status: int = 200,
    record: Any = None,
) -> HTMLResponse:
    return admin_page(
        request,
        user,
        "branding.html",
        values=values,
        errors=errors,
        notice=notice,
        record=record,
        status_code=status,
    )


@router.get("/admin/branding", response_class=HTMLResponse)
async def branding(request: Request, user: User = Depends(staff_only)) -> HTMLResponse:
    record = await web(request).run_db(brand_record)
    notice = t(user.locale, "brand_saved") if request.query_params.get("saved") else None
    return _page(request, user, _values(request), {}, notice, record=record)


@router.post("/admin/branding", response_model=None)
async def save(request: Request, user: User = Depends(staff_post)) -> Response:
    ctx = web(request)
    form = await request.form()
    values = {name: str(form.get(name) or "").strip() for name in BRAND_FIELDS}
    fields = {k: v for k, v in values.items() if v}
    errors: dict[str, str] = {}
    for name in ("company", "sender_name"):
        if not values[name]:
            errors[name] = t(user.locale, "surveys_err_required")
    logo: tuple[bytes, str] | None = None
    upload = form.get("logo")
    if isinstance(upload, UploadFile) and not upload.filename:
        await form.close()
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(LOGO_LIMIT + 1)
        await form.close()  # the spooled upload file goes now, not at garbage collection
        kind = logo_type(data)
        if len(data) > LOGO_LIMIT:
            errors["logo"] = t(user.locale, "brand_err_logo_size")
        elif kind is None:
            errors["logo"] = t(user.locale, "brand_err_logo_type")
        else:
            logo = (data, kind)
    if not errors:
        try:
            await ctx.run_db(lambda s: save_brand(s, fields, user.username, logo))
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error.get("loc", ())) or "company"
                errors[field] = (
                    t(user.locale, "brand_err_color") if field == "color" else str(error.get("msg"))
                )
    if errors:
        record = await ctx.run_db(brand_record)
        return _page(request, user, values, errors, status=400, record=record)
    live_for(ctx.settings, ctx.engine).refresh(force=True)
    return RedirectResponse("/admin/branding?saved=1", status_code=303)
