from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog, FieldType
from rongxin.entities import uscc
from rongxin.errors import InvalidInput
from rongxin.synth import service
from rongxin.synth.items import GENERATORS
from rongxin.synth.writer import FileFormat, sha256_file

N = 3000


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    out = tmp_path_factory.mktemp("synth")
    service.generate(catalog, enterprises=N, seed=7, out=out)
    return out


def manifest(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "manifest.json").read_text("utf-8"))


def read(out: Path, entry: dict) -> pl.DataFrame:  # type: ignore[type-arg]
    return pl.read_csv(out / entry["path"], infer_schema=False)


def test_every_default_item_has_a_dedicated_generator(catalog: Catalog) -> None:
    assert set(GENERATORS) == {i.code for i in catalog.items}


def test_manifest_lists_every_item_with_counts_and_checksums(
    package: Path, catalog: Catalog
) -> None:
    m = manifest(package)
    by_item = {f["item"]: f for f in m["files"]}
    assert set(by_item) == {i.code for i in catalog.items} | {"loan_outcomes"}
    for item in catalog.items:
        entry = by_item[item.code]
        assert entry["provider"] == item.provider
        assert entry["path"] == f"{item.provider}/{item.code}.csv"
        assert read(package, entry).height == entry["rows"]
        assert sha256_file(package / entry["path"]) == entry["sha256"]
    assert by_item["registration"]["rows"] == N
    # a realistic package: most items have rows, public negative lists are rare
    assert sum(1 for f in m["files"] if f["rows"] > 0) >= len(catalog.items) - 3
    assert by_item["dishonest_debtor"]["rows"] < N * 0.05


def test_same_seed_same_bytes_other_seed_differs(
    tmp_path: Path, catalog: Catalog, package: Path
) -> None:
    again = tmp_path / "again"
    service.generate(catalog, enterprises=N, seed=7, out=again)
    assert (again / "manifest.json").read_bytes() == (package / "manifest.json").read_bytes()
    other = tmp_path / "other"
    service.generate(catalog, enterprises=N, seed=8, out=other)
    assert manifest(other)["files"][0]["sha256"] != manifest(package)["files"][0]["sha256"]


def test_rows_conform_to_the_catalog(package: Path, catalog: Catalog) -> None:
    for entry in manifest(package)["files"]:
        if entry["item"] == "loan_outcomes":
            continue
        item = catalog.item(entry["item"])
        df = read(package, entry)
        assert df.columns == [f.name for f in item.fields], item.code
        if df.height == 0:
            continue
        assert df.select(item.natural_key).is_duplicated().sum() == 0, item.code
        for f in item.fields:
            col = df[f.name]
            if f.required:
                assert col.null_count() == 0, (item.code, f.name)
            values = col.drop_nulls()
            if f.type is FieldType.enum:
                assert set(values.unique().to_list()) <= set(f.allowed or []), (item.code, f.name)
            if f.type in (FieldType.integer, FieldType.decimal) and values.len():
                nums = values.cast(pl.Float64)
                if f.min is not None:
                    assert nums.min() >= f.min, (item.code, f.name)  # type: ignore[operator]
                if f.max is not None:
                    assert nums.max() <= f.max, (item.code, f.name)  # type: ignore[operator]
            if f.type is FieldType.month:
                assert values.str.contains(r"^\d{4}-(0[1-9]|1[0-2])$").all()


def test_codes_are_valid_and_unique(package: Path) -> None:
    reg = pl.read_csv(package / "samr/registration.csv", infer_schema=False)
    codes = reg["uscc"].to_list()
    assert len(set(codes)) == N
    assert all(uscc.validate(c).valid for c in codes)
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for number in reg["legal_rep_id_number"].to_list()[:500]:
        total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
        assert number[17] == "10X98765432"[total % 11]
    prefixes = {c[:2] for c in codes}
    assert {"91", "92", "93"} <= prefixes


def test_hidden_risk_gives_real_signal(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "big"
    service.generate(catalog, enterprises=20000, seed=3, out=out, months=3)
    loans = pl.read_csv(out / "loan_outcomes.csv")
    listed = pl.concat(
        [pl.read_csv(out / p, infer_schema=False).select("uscc")
         for p in ("spc/court_enforcement.csv", "samr/abnormal_operation.csv")]
    ).unique()  # fmt: skip
    flagged = loans.join(listed.with_columns(flag=pl.lit(1)), on="uscc", how="left")
    rate_flagged = flagged.filter(pl.col("flag") == 1)["defaulted_12m"].mean()
    rate_clean = flagged.filter(pl.col("flag").is_null())["defaulted_12m"].mean()
    assert rate_flagged > 1.5 * rate_clean  # type: ignore[operator]
    assert 0.01 < loans["defaulted_12m"].mean() < 0.2  # type: ignore[operator]


@pytest.mark.parametrize("fmt", [FileFormat.jsonl, FileFormat.parquet])
def test_other_formats_hold_the_same_rows(
    tmp_path: Path, catalog: Catalog, package: Path, fmt: FileFormat
) -> None:
    out = tmp_path / fmt.value
    service.generate(catalog, enterprises=N, seed=7, out=out, fmt=fmt)
    csv_rows = {f["item"]: f["rows"] for f in manifest(package)["files"]}
    for entry in manifest(out)["files"]:
        assert entry["rows"] == csv_rows[entry["item"]]
    reg = (
        pl.read_parquet(out / "samr/registration.parquet")
        if fmt is FileFormat.parquet
        else pl.read_ndjson(out / "samr/registration.jsonl")
    )
    assert reg.height == N
    assert (
        reg["uscc"].to_list()
        == pl.read_csv(package / "samr/registration.csv", infer_schema=False)["uscc"].to_list()
    )


def test_gb18030_csv(tmp_path: Path, catalog: Catalog) -> None:
    out = tmp_path / "gb"
    service.generate(catalog, enterprises=200, seed=1, out=out, encoding="gb18030")
    raw = (out / "samr/registration.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "统一社会信用代码" not in raw.decode("gb18030")  # header holds field names
    assert "市场监督管理局" in raw.decode("gb18030")
    assert manifest(out)["encoding"] == "gb18030"


def _field(name: str, type_: str) -> dict[str, object]:
    return {"name": name, "label": name, "label_en": name, "type": type_, "required": True}


def test_operator_added_item_gets_generic_rows(tmp_path: Path, catalog: Catalog) -> None:
    from importlib import resources

    data = yaml.safe_load(
        (resources.files("rongxin") / "data" / "default_catalog.yaml").read_text("utf-8")
    )
    extra = {
        "code": "local_credit_commitment", "name": "信用承诺履约", "name_en": "Commitments",
        "category": "honor", "provider": "ndrc", "sharing_mode": "physical",
        "authorization_required": False, "level": 1, "sharing": "unconditional",
        "disclosure": "public", "update_frequency": "monthly",
        "natural_key": ["uscc", "commitment_no"], "event_date_field": "signed_date",
        "fields": [
            _field("uscc", "uscc"),
            _field("commitment_no", "string"),
            {**_field("kept", "enum"), "allowed": ["履约", "失信"]},
            _field("signed_date", "date"),
        ],
    }  # fmt: skip
    data["items"].append(extra)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "pkg"
    service.generate(
        catalog_service.load_catalog(path), enterprises=2000, seed=1, out=out, months=1
    )
    df = pl.read_csv(out / "ndrc/local_credit_commitment.csv", infer_schema=False)
    assert df.height > 100
    assert set(df["kept"].unique().to_list()) <= {"履约", "失信"}
    assert df["commitment_no"].is_duplicated().sum() == 0


def test_bad_arguments(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="--encoding"):
        service.generate(
            catalog,
            enterprises=10,
            seed=1,
            out=tmp_path,
            fmt=FileFormat.parquet,
            encoding="gb18030",
        )
    with pytest.raises(InvalidInput, match="--months"):
        service.generate(catalog, enterprises=10, seed=1, out=tmp_path, months=0)


def test_monthly_series_respect_founding_date(package: Path) -> None:
    reg = pl.read_csv(package / "samr/registration.csv", infer_schema=False).select(
        "uscc", "establish_date"
    )
    elec = pl.read_csv(package / "power_grid/electricity.csv", infer_schema=False)
    joined = elec.join(reg, on="uscc")
    assert (joined["period"] >= joined["establish_date"].str.slice(0, 7)).all()
    assert np.isin(
        elec["period"].unique().to_numpy(),
        [f"2025-{m:02d}" for m in range(10, 13)] + [f"2026-{m:02d}" for m in range(1, 10)],
    ).all()
