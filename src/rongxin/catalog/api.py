"""Catalog routes: the sharing list is public information (G1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from rongxin.catalog import service
from rongxin.catalog.schemas import Item, ItemList, SharingMode
from rongxin.deps import CatalogDep

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/items", response_model=ItemList)
def list_items(
    catalog: CatalogDep,
    category: str | None = None,
    provider: str | None = None,
    sharing_mode: SharingMode | None = None,
) -> ItemList:
    return service.list_items(
        catalog, category=category, provider=provider, sharing_mode=sharing_mode
    )


@router.get("/items/{code}", response_model=Item)
def get_item(code: str, catalog: CatalogDep) -> Item:
    return service.get_item(catalog, code)


@router.get("")
def get_catalog(catalog: CatalogDep) -> dict[str, Any]:
    """The whole catalog: version, providers, categories and items with every attribute."""
    return catalog.model_dump(mode="json")
