"""OAuth2 client credentials: the token endpoint (RFC 6749 §4.4, §2.3.1, §5.2) and bearer
tokens accepted wherever ``rx_`` keys are, cut off at once when the key is revoked."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote_plus

import jwt
import pytest
from access_helpers import T0, split_token
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access import tokens
from rongxin.access.errors import OAuthError, Unauthenticated
from rongxin.access.keys import KeyPurpose, derive_key
from rongxin.access.schemas import ApiKeyCreated, PrincipalKind
from rongxin.config import Settings
from rongxin.db.base import utcnow

MakeKey = Callable[..., ApiKeyCreated]
TOKEN_URL = "/api/v1/oauth/token"


def _form(key: ApiKeyCreated, **overrides: str) -> dict[str, str]:
    client_id, secret = split_token(key.token)
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret} | (
        overrides
    )


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- the token endpoint -------------------------------------------------------------------------


def test_form_credentials_get_a_short_lived_signed_token(
    api: TestClient, make_api_key: MakeKey, settings: Settings
) -> None:
    key = make_api_key("provider", "samr")
    r = api.post(TOKEN_URL, data=_form(key))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["pragma"] == "no-cache"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.access_token_minutes * 60
    claims = jwt.decode(
        body["access_token"],
        derive_key(settings, KeyPurpose.access_token),
        algorithms=["HS256"],
        issuer="rongxin:test-node",
    )
    assert claims["sub"] == key.key_id
    assert claims["kind"] == "provider"
    assert claims["code"] == "samr"
    assert len(claims["jti"]) == 32
    assert claims["exp"] - claims["iat"] == settings.access_token_minutes * 60
    assert split_token(key.token)[1] not in body["access_token"]
    who = api.get("/test/whoami", headers=_bearer(body["access_token"]))
    assert who.status_code == 200
    assert who.json() == {
        "kind": "provider",
        "code": "samr",
        "key_id": key.key_id,
        "user_id": None,
    }


def test_http_basic_credentials_work_too(api: TestClient, make_api_key: MakeKey) -> None:
    key = make_api_key("provider", "samr")
    client_id, secret = split_token(key.token)
    r = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert api.get("/test/whoami", headers=_bearer(token)).json()["kind"] == "provider"


def test_a_token_opens_a_real_route_as_its_provider(api: TestClient, make_api_key: MakeKey) -> None:
    key = make_api_key("provider", "samr")
    token = api.post(TOKEN_URL, data=_form(key)).json()["access_token"]
    r = api.get("/api/v1/ingest/batches", headers=_bearer(token))
    assert r.status_code == 200, r.text
    assert all(b["provider_code"] == "samr" for b in r.json()["items"])
    assert api.get("/api/v1/ingest/batches").status_code == 401


def test_an_onboarded_institution_uses_tokens_until_it_is_suspended(
    api: TestClient, session: Session
) -> None:
    from institution_factories import institution_token

    from rongxin.institutions import service as institutions_service

    token = institution_token(session, "bank-tok")
    client_id, secret = split_token(token)
    r = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )
    assert r.status_code == 200, r.text
    access = _bearer(r.json()["access_token"])
    subscriptions = api.get("/api/v1/push/subscriptions", headers=access)
    assert subscriptions.status_code == 200, subscriptions.text
    assert subscriptions.json() == []
    institutions_service.suspend(session, code="bank-tok", actor="console:ops", reason="test")
    assert api.get("/api/v1/push/subscriptions", headers=access).status_code == 401
    again = api.post(
        TOKEN_URL, data={"grant_type": "client_credentials"}, headers=_basic(client_id, secret)
    )
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


def test_the_active_principal_hook_decides_for_tokens_and_keys(
    api: TestClient, make_api_key: MakeKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Suspension of a party plugs into ``principal_is_active``: when it says no, the token
    endpoint refuses the client and a live token or key is refused on its next request."""
    key = make_api_key("provider", "samr")
    token = api.post(TOKEN_URL, data=_form(key)).json()["access_token"]
    monkeypatch.setattr(access_service, "principal_is_active", lambda _session, _p, **_: False)
    assert api.post(TOKEN_URL, data=_form(key)).json()["error"] == "invalid_client"
    assert api.get("/test/whoami", headers=_bearer(token)).status_code == 401
    assert api.get("/test/whoami", headers=_bearer(key.token)).status_code == 401


@pytest.mark.parametrize(
    "tamper",
    [
        lambda form: form | {"client_secret": form["client_secret"][:-2] + "xx"},
        lambda form: form | {"client_id": "0000000000000000"},
        lambda form: form | {"client_id": form["client_id"] + "_x"},
        lambda form: {k: v for k, v in form.items() if k != "client_secret"},
        lambda form: {"grant_type": "client_credentials"},
    ],
    ids=["wrong-secret", "unknown-id", "malformed-id", "no-secret", "no-credentials"],
)
def test_bad_client_is_invalid_client_401(
    api: TestClient, make_api_key: MakeKey, tamper: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    r = api.post(TOKEN_URL, data=tamper(_form(make_api_key())))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert set(r.json()) == {"error", "error_description"}
    assert r.headers["www-authenticate"].startswith("Basic")
    assert r.headers["cache-control"] == "no-store"


def test_bad_basic_header_is_invalid_client(api: TestClient, make_api_key: MakeKey) -> None:
    key = make_api_key()
    client_id, secret = split_token(key.token)
    for header in (
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        _basic(client_id, secret + "x"),
    ):
        r = api.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers=header)
        assert r.status_code == 401, header
        assert r.json()["error"] == "invalid_client"


def test_revoked_key_gets_no_token(
    api: TestClient, make_api_key: MakeKey, session: Session
) -> None:
    key = make_api_key()
    access_service.revoke_api_key(session, key_id=key.key_id)
    r = api.post(TOKEN_URL, data=_form(key))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_request_errors_follow_rfc_6749(api: TestClient, make_api_key: MakeKey) -> None:
    key = make_api_key()
    cases = {
        "unsupported_grant_type": _form(key, grant_type="password"),
        "invalid_request": {k: v for k, v in _form(key).items() if k != "grant_type"},
        "invalid_scope": _form(key, scope="reports"),
    }
    for error, form in cases.items():
        r = api.post(TOKEN_URL, data=form)
        assert r.status_code == 400, error
        assert r.json()["error"] == error
        assert r.json()["error_description"]
        assert "www-authenticate" not in r.headers
    client_id, secret = split_token(key.token)
    both = api.post(TOKEN_URL, data=_form(key), headers=_basic(client_id, secret))
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"
    assert "one client authentication method" in both.json()["error_description"]
    json_body = api.post(TOKEN_URL, json=_form(key))  # not a form: the fields are missing
    assert json_body.status_code == 400
    assert json_body.json()["error"] == "invalid_request"


@pytest.mark.parametrize("kind", ["operator", "regulator", "enterprise"])
def test_other_kinds_are_unauthorized_clients(
    api: TestClient, make_api_key: MakeKey, kind: str
) -> None:
    r = api.post(TOKEN_URL, data=_form(make_api_key(kind, "x-code")))
    assert r.status_code == 400
    assert r.json()["error"] == "unauthorized_client"


# ---- using tokens -------------------------------------------------------------------------------


def test_expired_token_is_refused(
    api: TestClient, make_api_key: MakeKey, session: Session, settings: Settings
) -> None:
    key = make_api_key()
    client_id, secret = split_token(key.token)
    old = utcnow() - timedelta(minutes=settings.access_token_minutes, seconds=1)
    issued = tokens.issue_access_token(
        session, settings=settings, client_id=client_id, client_secret=secret, now=old
    )
    r = api.get("/test/whoami", headers=_bearer(issued.access_token))
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["message"] == tokens.INVALID_CREDENTIALS
    # the same token was valid just before its expiry
    principal = tokens.verify_access_token(
        settings=settings, token=issued.access_token, now=old + timedelta(minutes=1)
    )
    assert principal.key_id == key.key_id


def test_token_with_a_bad_signature_is_refused(
    api: TestClient, make_api_key: MakeKey, session: Session, settings: Settings
) -> None:
    key = make_api_key()
    good = tokens.issue_for_key(session, settings=settings, key_id=key.key_id).access_token
    claims = jwt.decode(good, options={"verify_signature": False})
    forged_key = jwt.encode(claims, "not-the-platform-key-but-long-enough-32b", algorithm="HS256")
    header, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    raised = jwt.encode(claims | {"code": "bank-b"}, "x" * 32, algorithm="HS256")
    unsigned = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    for bad in (forged_key, f"{header}.{payload}.{flipped}", raised, unsigned, "eyJ.nope"):
        r = api.get("/test/whoami", headers=_bearer(bad))
        assert r.status_code == 401, bad
        assert r.json()["message"] == tokens.INVALID_CREDENTIALS
    assert api.get("/test/whoami", headers=_bearer(good)).status_code == 200


def test_a_token_from_another_node_is_refused(
    make_api_key: MakeKey, session: Session, settings: Settings
) -> None:
    key = make_api_key()
    other = settings.model_copy(update={"node_id": "other-node"})
    token = tokens.issue_for_key(session, settings=other, key_id=key.key_id).access_token
    with pytest.raises(Unauthenticated):
        tokens.verify_access_token(settings=settings, token=token)


def test_revoking_the_key_cuts_a_live_token_at_once(
    api: TestClient, make_api_key: MakeKey, session: Session
) -> None:
    key = make_api_key("provider", "samr")
    token = api.post(TOKEN_URL, data=_form(key)).json()["access_token"]
    assert api.get("/test/whoami", headers=_bearer(token)).status_code == 200
    access_service.revoke_api_key(session, key_id=key.key_id)
    r = api.get("/test/whoami", headers=_bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "unauthenticated"


def test_rx_keys_keep_working_and_are_rechecked(
    api: TestClient, make_api_key: MakeKey, session: Session
) -> None:
    key = make_api_key("operator", "ops")
    r = api.get("/test/whoami", headers=_bearer(key.token))
    assert r.status_code == 200
    assert r.json()["kind"] == "operator"
    access_service.revoke_api_key(session, key_id=key.key_id)
    assert api.get("/test/whoami", headers=_bearer(key.token)).status_code == 401


def test_issue_for_key_refuses_unknown_revoked_and_operator_keys(
    make_api_key: MakeKey, session: Session, settings: Settings
) -> None:
    with pytest.raises(Unauthenticated):
        tokens.issue_for_key(session, settings=settings, key_id="0000000000000000")
    operator = make_api_key("operator", "ops")
    with pytest.raises(OAuthError) as caught:
        tokens.issue_for_key(session, settings=settings, key_id=operator.key_id)
    assert caught.value.code == "unauthorized_client"
    revoked = make_api_key()
    access_service.revoke_api_key(session, key_id=revoked.key_id)
    with pytest.raises(Unauthenticated):
        tokens.issue_for_key(session, settings=settings, key_id=revoked.key_id)


def test_principal_is_active_checks_the_key_still_names_the_party(
    make_api_key: MakeKey, session: Session
) -> None:
    from rongxin.access.schemas import Principal

    key = make_api_key("provider", "samr")
    right = Principal(kind=PrincipalKind.provider, code="samr", key_id=key.key_id)
    assert access_service.principal_is_active(session, right)
    for wrong in (
        right.model_copy(update={"code": "spc"}),
        right.model_copy(update={"kind": PrincipalKind.operator}),
        right.model_copy(update={"key_id": "0000000000000000"}),
        Principal(kind=PrincipalKind.provider, code="samr"),
    ):
        assert not access_service.principal_is_active(session, wrong)
    expiring = access_service.create_api_key(
        session, kind=PrincipalKind.provider, code="samr", expires_at=T0
    )
    assert not access_service.principal_is_active(
        session, right.model_copy(update={"key_id": expiring.key_id})
    )
