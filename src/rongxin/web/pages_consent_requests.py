"""The institution's side of enterprise authorization (经企业授权): ``/consent/requests``.

An institution fills in the request form (enterprise, loan application, purpose, items, access
mode, data period, validity, retention) and follows its requests; ``/consent/requests/caps`` is
the HTMX fragment that shows the caps of the purpose chosen. Errors name the field, mark the
input ``aria-invalid`` and keep what was typed. The form posts the session's CSRF token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rongxin.access.schemas import FINANCING_PURPOSES, PURPOSE_NAMES, PrincipalKind
from rongxin.catalog.schemas import Catalog, Item, SharingAttribute
from rongxin.consent import requests, service
from rongxin.consent.deps import TemplatesDep
from rongxin.consent.purposes import PurposeTemplate, PurposeTemplates
from rongxin.consent.schemas import AuthorizationMode, AuthorizationRequest, FetchFrequency
from rongxin.db.base import utcnow
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.entities import service as entities_service
from rongxin.errors import InvalidInput
from rongxin.web import i18n
from rongxin.web.auth import CsrfForm, WebPrincipal, csrf_ok, require_web_principal
from rongxin.web.pages import PageRoute
from rongxin.web.pages_consent import (
    DONE_MESSAGES,
    LIST_LIMIT,
    view_context,
)
from rongxin.web.rendering import locale_of, no_store, render

FINANCING_ORDER: Final = [p for p in PURPOSE_NAMES if p in FINANCING_PURPOSES]
USCC_SHAPE: Final = re.compile(r"[0-9A-Z]{18}")  # what ``?uscc=`` may prefill

consent_requests_router = APIRouter(include_in_schema=False, route_class=PageRoute)

InstitutionViewer = Annotated[
    WebPrincipal, Depends(require_web_principal(PrincipalKind.institution))
]


def _authorizable(catalog: Catalog) -> list[Item]:
    """The items an institution may ask authorization for: shared and not publicly disclosable."""
    return [i for i in catalog.items if not i.is_public and i.sharing is not SharingAttribute.none]


@dataclass(slots=True)
class RequestForm:
    """What the institution typed (kept to fill the form again after an error)."""

    uscc: str = ""
    loan_application_ref: str = ""
    purpose: str = "pre_loan"
    items: tuple[str, ...] = ()
    access_mode: str = "view"
    fetch_frequency: str = ""
    data_from_date: str = ""
    data_to_date: str = ""
    validity_days: str = "30"
    retention_days: str = "0"


def _default_form(today: date) -> RequestForm:
    return RequestForm(
        data_from_date=date(today.year - 2, 1, 1).isoformat(),
        data_to_date=today.isoformat(),
    )


def _caps(templates: PurposeTemplates, purpose: str) -> PurposeTemplate | None:
    in_force = templates.in_force(utcnow())
    return next((t for t in in_force.purposes if t.purpose.value == purpose), None)


def _requests_page(
    request: Request,
    *,
    principal: WebPrincipal,
    session: Session,
    catalog: Catalog,
    templates: PurposeTemplates,
    form: RequestForm,
    error: str | None = None,
    error_field: str | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    listing = service.list_authorizations(
        session, now=utcnow(), institution_code=principal.code, limit=LIST_LIMIT
    )
    return no_store(
        render(
            request,
            "consent/requests.html",
            {
                **view_context(request, catalog, templates),
                "rows": listing.items,
                "total": listing.total,
                "form": form,
                "error": error,
                "error_field": error_field,
                "done": done if done in DONE_MESSAGES else "",
                "authorizable": _authorizable(catalog),
                "purposes": [p.value for p in FINANCING_ORDER],
                "modes": [m.value for m in AuthorizationMode],
                "frequencies": [f.value for f in FetchFrequency],
                "caps": _caps(templates, form.purpose),
            },
            status_code=status_code,
        )
    )


@consent_requests_router.get("/consent/requests", name="consent_requests")
def consent_requests(
    request: Request,
    principal: InstitutionViewer,
    session: SessionDep,
    catalog: CatalogDep,
    templates: TemplatesDep,
    done: Annotated[str, Query(max_length=16)] = "",
    uscc: Annotated[str, Query(max_length=40, description="Prefill the enterprise's USCC.")] = "",
) -> Response:
    """The request form; ``?uscc=`` (from the institution console or a report) prefills the
    enterprise. Only a well-formed code is taken; the service checks it again on submit."""
    form = _default_form(utcnow().date())
    prefill = uscc.strip().upper()
    if USCC_SHAPE.fullmatch(prefill):
        form.uscc = prefill
    return _requests_page(
        request,
        principal=principal,
        session=session,
        catalog=catalog,
        templates=templates,
        form=form,
        done=done,
    )


@consent_requests_router.get("/consent/requests/caps", name="consent_caps")
def consent_caps(
    request: Request,
    principal: InstitutionViewer,
    templates: TemplatesDep,
    purpose: Annotated[str, Query(max_length=32)] = "pre_loan",
) -> Response:
    """The caps of one purpose (an HTMX fragment of the request form)."""
    return no_store(render(request, "consent/_caps.html", {"caps": _caps(templates, purpose)}))


def _parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date (YYYY-MM-DD)", field=field) from None


def _parse_int(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a whole number", field=field) from None


def _spec(form: RequestForm) -> AuthorizationRequest:
    now = utcnow()
    days = _parse_int(form.validity_days, "validity_days")
    if days < 1:
        raise InvalidInput("validity_days: must be at least 1", field="validity_days")
    fields = {
        "uscc": form.uscc.strip().upper(),
        "loan_application_ref": form.loan_application_ref.strip(),
        "purpose": form.purpose,
        "items": list(form.items),
        "access_mode": form.access_mode,
        "fetch_frequency": form.fetch_frequency or None,
        "data_from_date": _parse_date(form.data_from_date, "data_from_date"),
        "data_to_date": _parse_date(form.data_to_date, "data_to_date"),
        "retention_days": _parse_int(form.retention_days, "retention_days"),
        "valid_from": now,
        "valid_until": now + timedelta(days=days),
    }
    try:
        return AuthorizationRequest.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "form"
        raise InvalidInput(f"{field}: {err['msg']}", field=field) from None


def _form_field(field: str) -> str:
    """The form input an error field belongs to (``items[2]`` → ``items``)."""
    base = field.split("[", 1)[0].split(".", 1)[0]
    return "validity_days" if base in ("valid_until", "valid_from") else base


@consent_requests_router.post("/consent/requests", name="consent_request_submit")
def consent_request_submit(
    request: Request,
    principal: InstitutionViewer,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    csrf: CsrfForm = "",
    uscc: Annotated[str, Form(max_length=40)] = "",
    loan_application_ref: Annotated[str, Form(max_length=100)] = "",
    purpose: Annotated[str, Form(max_length=32)] = "",
    items: Annotated[list[str] | None, Form()] = None,
    access_mode: Annotated[str, Form(max_length=16)] = "view",
    fetch_frequency: Annotated[str, Form(max_length=16)] = "",
    data_from_date: Annotated[str, Form(max_length=20)] = "",
    data_to_date: Annotated[str, Form(max_length=20)] = "",
    validity_days: Annotated[str, Form(max_length=6)] = "",
    retention_days: Annotated[str, Form(max_length=6)] = "0",
) -> Response:
    locale = locale_of(request)
    form = RequestForm(
        uscc=uscc,
        loan_application_ref=loan_application_ref,
        purpose=purpose,
        items=tuple((items or [])[:100]),
        access_mode=access_mode,
        fetch_frequency=fetch_frequency,
        data_from_date=data_from_date,
        data_to_date=data_to_date,
        validity_days=validity_days,
        retention_days=retention_days,
    )
    page: dict[str, Any] = {
        "principal": principal,
        "session": session,
        "catalog": catalog,
        "templates": templates,
        "form": form,
    }
    if not csrf_ok(request, csrf):
        return _requests_page(
            request,
            **page,
            error=i18n.translate(locale, "consent.error_csrf"),
            status_code=403,
        )
    try:
        made = requests.request_authorization(
            session,
            catalog=catalog,
            templates=templates,
            institution_code=principal.code,
            spec=_spec(form),
            actor=principal.principal,
            now=utcnow(),
            uscc_allow_list=entities_service.load_allow_list(settings.uscc_allowlist_path),
        )
    except InvalidInput as exc:
        field = str(exc.details.get("field", ""))
        return _requests_page(
            request,
            **page,
            error=exc.message,
            error_field=_form_field(field) if field else None,
            status_code=exc.status,
        )
    return RedirectResponse(
        f"/consent/requests?done=requested#authorization-{made.id}", status_code=303
    )
