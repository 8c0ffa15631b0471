"""Enterprise real-name registration page (实名注册, M3): ``/register``.

The legal representative gives the USCC, their name and ID number, and chooses a username and
password; :func:`rongxin.access.registration.register_enterprise` checks the claim against the
enterprise's registration record and answers only verified / not verified. On success the new
enterprise account is signed in. The claimed name, ID number and passwords are never put back
into the page; a mismatch is counted (rate limit) and committed — the route answers, it does
not raise. Wired by :func:`rongxin.web.auth.install`.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Request, Response

from rongxin.access import registration, users
from rongxin.access.deps import client_address
from rongxin.access.errors import TooManyAttempts
from rongxin.access.schemas import (
    Principal,
    PrincipalKind,
    RegistrationRequest,
    RegistrationResult,
)
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.errors import Conflict, InvalidInput
from rongxin.web import i18n
from rongxin.web.auth import CsrfForm, csrf_ok, csrf_token, remember
from rongxin.web.pages import PageRoute
from rongxin.web.rendering import locale_of, no_store, render

registration_router = APIRouter(include_in_schema=False, route_class=PageRoute)

REGISTRATION_FIELDS: Final = (
    "uscc",
    "legal_rep_name",
    "legal_rep_id_number",
    "username",
    "display_name",
    "password",
)


def _register_form(
    request: Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The registration form. Only the USCC, username and display name are filled in again:
    the claimed name, ID number and passwords are never sent back."""
    kept = {k: v for k, v in (values or {}).items() if k in ("uscc", "username", "display_name")}
    return no_store(
        render(
            request,
            "auth/register.html",
            {
                "values": kept,
                "errors": errors or {},
                "error": error,
                "done": None,
                "csrf_token": csrf_token(request),
            },
            status_code=status_code,
        )
    )


def _field_error(locale: str, exc: InvalidInput) -> tuple[str, str]:
    """The field a validation error is about and what to tell the person, in their language."""
    field = str(exc.details.get("field", ""))
    if field == "uscc":
        reason = exc.message.removeprefix("uscc: ")
        return field, i18n.translate(locale, "registration.error_uscc", reason=reason)
    if field in ("legal_rep_name", "legal_rep_id_number", "username", "password"):
        return field, i18n.translate(locale, f"registration.error_{field}")
    return "", exc.message


@registration_router.get("/register", name="register")
def register_form(request: Request) -> Response:
    return _register_form(request)


@registration_router.post("/register", name="register_submit")
def register_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    uscc: Annotated[str, Form(max_length=40)] = "",
    legal_rep_name: Annotated[str, Form(max_length=50)] = "",
    legal_rep_id_number: Annotated[str, Form(max_length=40)] = "",
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=users.PASSWORD_MAX_LENGTH)] = "",
    password_confirm: Annotated[str, Form(max_length=users.PASSWORD_MAX_LENGTH)] = "",
    csrf: CsrfForm = "",
) -> Response:
    """Verify the claim; on success create the account and sign it in. A mismatch is counted
    (rate limit) and committed: the route answers, it does not raise."""
    locale = locale_of(request)
    values = {"uscc": uscc, "username": username, "display_name": display_name}
    if not csrf_ok(request, csrf):
        error = i18n.translate(locale, "auth.error_expired_form")
        return _register_form(request, values=values, error=error, status_code=400)
    missing = {
        name: i18n.translate(locale, "registration.error_required")
        for name, value in zip(
            REGISTRATION_FIELDS,
            (uscc, legal_rep_name, legal_rep_id_number, username, "-", password),
            strict=True,
        )
        if not value.strip()
    }
    if not missing and password != password_confirm:
        missing["password"] = i18n.translate(locale, "registration.error_password_confirm")
    if missing:
        return _register_form(request, values=values, errors=missing, status_code=400)
    claim = RegistrationRequest(
        uscc=uscc,
        legal_rep_name=legal_rep_name,
        legal_rep_id_number=legal_rep_id_number,
        username=username,
        password=password,
        display_name=display_name,
    )
    try:
        outcome = registration.register_enterprise(
            session,
            settings=settings,
            catalog=catalog,
            claim=claim,
            client=client_address(request),
        )
    except InvalidInput as exc:
        field, message = _field_error(locale, exc)
        if not field:
            return _register_form(request, values=values, error=message, status_code=400)
        return _register_form(request, values=values, errors={field: message}, status_code=400)
    except Conflict:
        taken = {"username": i18n.translate(locale, "registration.error_username_taken")}
        return _register_form(request, values=values, errors=taken, status_code=409)
    except TooManyAttempts as exc:
        minutes = (int(exc.details.get("retry_after", 60)) + 59) // 60
        error = i18n.translate(locale, "registration.error_locked", minutes=minutes)
        return _register_form(request, values=values, error=error, status_code=429)
    except registration.RegistrationRecordMissing:
        error = i18n.translate(locale, "registration.error_no_record")
        return _register_form(request, values=values, error=error, status_code=404)
    if outcome.result is RegistrationResult.not_verified or outcome.user is None:
        error = i18n.translate(locale, "registration.not_verified")
        return _register_form(request, values=values, error=error, status_code=400)
    user = outcome.user
    remember(
        request,
        Principal(kind=PrincipalKind.enterprise, code=user.principal_code, user_id=user.id),
    )
    return no_store(
        render(
            request,
            "auth/register.html",
            {
                "values": {},
                "errors": {},
                "error": None,
                "done": user,
                "csrf_token": csrf_token(request),
            },
        )
    )
