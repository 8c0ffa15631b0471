from __future__ import annotations

from pathlib import Path

import pytest

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.synth import service as synth


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A small, real delivery package (300 entities, 2 months)."""
    out = tmp_path_factory.mktemp("package")
    synth.generate(catalog, enterprises=300, seed=11, out=out, months=2)
    return out
