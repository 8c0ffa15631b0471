"""Market-entity errors: each says what was wrong, where, and what to do."""

from __future__ import annotations

from rongxin.errors import InvalidInput, NotFound


class EntityNotFound(NotFound):
    """No market entity with this USCC is registered on this node."""

    code = "entity_not_found"


class InvalidUscc(InvalidInput):
    """A USCC failed a GB 32100 check; ``details['check']`` names it."""

    code = "invalid_uscc"
