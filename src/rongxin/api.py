"""Every domain's JSON router, under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from rongxin.access.api import router as access_router
from rongxin.audit.api import router as audit_router
from rongxin.catalog.api import router as catalog_router
from rongxin.consent.api import router as consent_router
from rongxin.entities.api import router as entities_router
from rongxin.ingest.api import router as ingest_router
from rongxin.institutions.api import router as institutions_router
from rongxin.monitoring.api import router as monitoring_router
from rongxin.providers.api import router as providers_router
from rongxin.push.api import router as push_router
from rongxin.rating.api import router as rating_router
from rongxin.rating.api import scorecard_router
from rongxin.reports.api import router as reports_router
from rongxin.rights.api import router as rights_router

api_router = APIRouter(prefix="/api/v1")
# Routes are matched in order, one by one: the report route, by far the busiest, comes first.
api_router.include_router(reports_router)
api_router.include_router(access_router)
api_router.include_router(catalog_router)
api_router.include_router(consent_router)
api_router.include_router(entities_router)
api_router.include_router(ingest_router)
api_router.include_router(institutions_router)
api_router.include_router(providers_router)
api_router.include_router(push_router)
api_router.include_router(audit_router)
api_router.include_router(monitoring_router)
api_router.include_router(rating_router)
api_router.include_router(scorecard_router)
api_router.include_router(rights_router)
