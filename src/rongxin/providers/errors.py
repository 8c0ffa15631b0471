"""Errors of interface calls and verification: each says what was wrong and what to do."""

from __future__ import annotations

from rongxin.errors import Forbidden as _Forbidden
from rongxin.errors import InvalidInput, NotFound, RongxinError, ServiceUnavailable


class ProviderUnavailable(ServiceUnavailable):
    """A provider's service could not answer: not configured, unreachable, timed out, answered
    with an error or with something that is not the protocol. ``details['reason']`` says which."""

    code = "provider_unavailable"


class EndpointsFileError(InvalidInput):
    """The provider endpoints file (``RONGXIN_PROVIDER_ENDPOINTS_PATH``) is not valid."""

    code = "endpoints_file_invalid"


class InvalidClaim(InvalidInput):
    """A claim, a filter or a requested field does not fit the catalog item;
    ``details['field']`` names the offending input (``claims[0].value`` …)."""

    code = "invalid_claim"


class ItemNotServed(NotFound):
    """The provider's service does not serve this item (not its item, or no data file)."""

    code = "item_not_served"


class ModeNotAllowed(_Forbidden):
    """The item's sharing mode does not allow this call (a verification-only item is never
    queried for values)."""

    code = "mode_not_allowed"


class SignatureRejected(RongxinError):
    """The call to a provider's service is not signed with the shared secret, is stale, or
    replays a nonce already used."""

    status = 401
    code = "signature_rejected"
