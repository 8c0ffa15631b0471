"""Access routes: the OAuth2 token endpoint for systems, enterprise real-name registration."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Final
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request, Response

from rongxin.access import registration, tokens
from rongxin.access.deps import client_address
from rongxin.access.errors import OAuthError
from rongxin.access.schemas import (
    AccessToken,
    RegistrationOutcome,
    RegistrationRequest,
    RegistrationResult,
)
from rongxin.deps import CatalogDep, SessionDep, SettingsDep

router = APIRouter(tags=["access"])

FIELD_MAX: Final = 200
_OAUTH_ERROR: Final[dict[str, Any]] = {
    "content": {
        "application/json": {
            "example": {
                "error": "invalid_client",
                "error_description": "client authentication failed",
            }
        }
    }
}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_id and client_secret from ``Authorization: Basic`` (RFC 6749 §2.3.1: each part
    form-urlencoded, joined by ``:``, base64-encoded); None when the header is absent."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(
            "invalid_client", "the Basic credentials are not valid base64", status=401
        ) from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise OAuthError(
            "invalid_client", "the Basic credentials need client_id:client_secret", status=401
        )
    return unquote_plus(user), unquote_plus(password)


@router.post(
    "/oauth/token",
    response_model=AccessToken,
    responses={400: _OAUTH_ERROR, 401: _OAUTH_ERROR},
)
def issue_token(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    grant_type: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    client_id: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    client_secret: Annotated[str, Form(max_length=FIELD_MAX)] = "",
    scope: Annotated[str, Form(max_length=FIELD_MAX)] = "",
) -> AccessToken:
    """OAuth 2.0 client credentials (RFC 6749 §4.4) for institution and provider systems.

    Send ``grant_type=client_credentials`` as a form, with the API key's id as ``client_id``
    and its secret part as ``client_secret`` — in the form or as HTTP Basic. The answer is a
    bearer access token that lives ``RONGXIN_ACCESS_TOKEN_MINUTES``; use it as
    ``Authorization: Bearer …`` wherever an ``rx_`` key is accepted. Errors follow RFC 6749
    §5.2: ``invalid_request``, ``invalid_client`` (401), ``unauthorized_client``,
    ``unsupported_grant_type``, ``invalid_scope``.
    """
    basic = _basic_credentials(request)
    if basic is not None and client_secret:
        raise OAuthError(
            "invalid_request", "use one client authentication method: HTTP Basic or the form"
        )
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is missing; send client_credentials")
    if grant_type != tokens.GRANT_TYPE:
        raise OAuthError(
            "unsupported_grant_type", "only grant_type=client_credentials is supported"
        )
    if scope:
        raise OAuthError("invalid_scope", "this platform defines no scopes; omit scope")
    if basic is not None:
        if client_id and client_id != basic[0]:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        client_id, client_secret = basic
    elif not client_id or not client_secret:
        raise OAuthError(
            "invalid_client",
            "no client authentication: send client_id and client_secret, or HTTP Basic",
            status=401,
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return tokens.issue_access_token(
        session, settings=settings, client_id=client_id, client_secret=client_secret
    )


@router.post(
    "/enterprises/register",
    response_model=RegistrationOutcome,
    status_code=201,
    responses={
        200: {"model": RegistrationOutcome, "description": "Not verified (nothing created)."},
        404: {"description": "No registration record to verify against."},
        429: {"description": "Too many failed attempts for this USCC or client."},
    },
)
def register_enterprise(
    claim: RegistrationRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
) -> RegistrationOutcome:
    """Enterprise real-name registration (M3): the legal representative's name and ID number are
    checked against the enterprise's registration record. 201 ``verified`` with the new
    enterprise account, or 200 ``not_verified`` — the recorded values are never returned."""
    outcome = registration.register_enterprise(
        session, settings=settings, catalog=catalog, claim=claim, client=client_address(request)
    )
    if outcome.result is RegistrationResult.not_verified:
        response.status_code = 200
    return outcome
