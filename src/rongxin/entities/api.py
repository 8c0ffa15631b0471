"""Market-entity routes: registration facts are public information (S1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rongxin.deps import SessionDep, SettingsDep
from rongxin.entities import search as entity_search
from rongxin.entities import service
from rongxin.entities.schemas import EntityPage, EntityRead, UsccCheckRequest, UsccCheckResult

router = APIRouter(prefix="/entities", tags=["entities"])


@router.get("", response_model=EntityPage)
def search_entities(
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=100, description="Part of the name, or a full USCC.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    region: Annotated[
        str | None,
        Query(pattern=r"^\d{2,6}$", description="GB/T 2260 code or prefix, e.g. 35 or 350102."),
    ] = None,
) -> EntityPage:
    """Search market entities by partial name or USCC, optionally within a region."""
    return entity_search.search_entities(
        session, q=q, limit=limit, offset=offset, region_prefix=region
    )


@router.post("/uscc-check", response_model=list[UsccCheckResult])
def check_usccs(body: UsccCheckRequest, settings: SettingsDep) -> list[UsccCheckResult]:
    """Validate codes (GB 32100-2015); each failing result names the check that failed."""
    allow_list = service.load_allow_list(settings.uscc_allowlist_path)
    return service.check_usccs(body.codes, allow_list=allow_list)


@router.get("/{uscc}", response_model=EntityRead)
def get_entity(uscc: str, session: SessionDep) -> EntityRead:
    """One entity's registration facts, region, industry and size class."""
    return service.get_entity(session, uscc=uscc)
