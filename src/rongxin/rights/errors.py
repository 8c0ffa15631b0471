"""Rights errors: each says what was wrong, which field, and what to do."""

from __future__ import annotations

from rongxin.errors import Conflict, InvalidInput, NotFound


class RightsDataError(InvalidInput):
    """A rights-rule, holiday-calendar or commitment file is malformed; names file and line."""

    code = "rights_data_invalid"


class ObjectionNotFound(NotFound):
    """No objection with this id is visible to the caller (another party's is not found)."""

    code = "objection_not_found"


class RepairNotFound(NotFound):
    """No repair application with this id is visible to the caller."""

    code = "repair_not_found"


class RecordNotFound(NotFound):
    """The enterprise has no current record with this item and key."""

    code = "record_not_found"


class InvalidRightsRequest(InvalidInput):
    """A request names a wrong field value; ``details['field']`` says which."""

    code = "invalid_rights_request"


class StaleCommitment(Conflict):
    """The request echoed a credit-commitment hash other than the text in force: show it again."""

    code = "stale_commitment"


class InvalidTransition(Conflict):
    """The objection or application is not in a state that allows this action."""

    code = "invalid_transition"


class NotYetRepairable(Conflict):
    """The record's minimum publicity period has not passed; ``details['repairable_from']``."""

    code = "not_yet_repairable"
