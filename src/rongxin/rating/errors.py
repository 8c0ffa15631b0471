"""Rating errors: each says what was wrong, where, and what to do."""

from __future__ import annotations

from rongxin.errors import Conflict, Forbidden, InvalidInput, NotFound


class RatingFileError(InvalidInput):
    """A feature or indicator-system file is malformed; the message names file, line and field."""

    code = "rating_file_invalid"


class RatingNotFound(NotFound):
    code = "rating_not_found"


class RatingRunNotFound(NotFound):
    code = "rating_run_not_found"


class EngineUnavailable(InvalidInput):
    """The analytics engine asked for cannot start here (e.g. Spark without Java)."""

    code = "engine_unavailable"


# ---- scorecards (statistical scoring, E2) --------------------------------------------------------


class ScorecardFileError(InvalidInput):
    """A portable scorecard file is malformed; the message names file, line and field."""

    code = "scorecard_file_invalid"


class ScorecardInputError(InvalidInput):
    """A data file to train on or to score cannot be used: unreadable, a column missing or of
    the wrong type, a target without the bad value. The message names the file and column."""

    code = "scorecard_input_invalid"


class TrainingError(InvalidInput):
    """Training a scorecard failed for a reason in the data or the options."""

    code = "scorecard_training_failed"


class ScorecardNotFound(NotFound):
    code = "scorecard_not_found"


class ScorecardExists(Conflict):
    """The owner already registered this name and version; register a new version."""

    code = "scorecard_exists"


class ScorecardTransitionError(Conflict):
    """The scorecard's status does not allow this step (e.g. approving a retired one)."""

    code = "scorecard_invalid_transition"


class ScorecardFourEyes(Forbidden):
    """The approver also registered the scorecard (四眼原则: two different people)."""

    code = "scorecard_four_eyes"
