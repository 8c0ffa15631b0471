"""Imports every domain's tables so that ``metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

from rongxin.access import models as _access  # noqa: F401
from rongxin.audit import models as _audit  # noqa: F401
from rongxin.consent import models as _consent  # noqa: F401
from rongxin.db.base import Base
from rongxin.entities import models as _entities  # noqa: F401
from rongxin.ingest import models as _ingest  # noqa: F401
from rongxin.institutions import models as _institutions  # noqa: F401
from rongxin.monitoring import models as _monitoring  # noqa: F401
from rongxin.push import models as _push  # noqa: F401
from rongxin.rating import models as _rating  # noqa: F401
from rongxin.records import models as _records  # noqa: F401
from rongxin.reports import models as _reports  # noqa: F401
from rongxin.rights import models as _rights  # noqa: F401

metadata = Base.metadata
