from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rongxin.catalog import service
from rongxin.catalog.errors import CatalogFileError, UnknownItem
from rongxin.catalog.schemas import DataLevel, DisclosureAttribute, SharingMode

S1 = {
    "市场主体注册登记",
    "行政许可",
    "行政处罚",
    "司法判决及执行",
    "严重失信主体名单",
    "荣誉表彰",
    "政策支持",
}
S2 = {"纳税", "社会保险费和住房公积金缴纳", "进出口", "水电气", "不动产", "知识产权", "科技研发"}
POLICY_PROVIDERS = {
    "国家发展改革委", "人民银行", "金融监管总局", "最高人民法院", "人力资源社会保障部",
    "自然资源部", "生态环境部", "住房城乡建设部", "农业农村部", "海关总署", "税务总局",
    "市场监管总局", "国家版权局", "国家知识产权局",
}  # fmt: skip


def default_text() -> str:
    from importlib import resources

    return (resources.files("rongxin") / "data" / "default_catalog.yaml").read_text("utf-8")


def test_default_catalog_covers_every_policy_category() -> None:
    catalog = service.load_catalog()
    assert len(catalog.items) >= 30
    used = {catalog.category(i.category) for i in catalog.items}
    names = {c.name for c in used}
    assert names >= S1
    assert names >= S2
    assert any(c.requirement == "S3" for c in used)
    providers = {catalog.provider(i.provider).name for i in catalog.items}
    assert providers >= POLICY_PROVIDERS
    assert {p.name for p in catalog.providers if p.named_in_policy} == POLICY_PROVIDERS


def test_every_sharing_mode_and_level_appears() -> None:
    catalog = service.load_catalog()
    assert {i.sharing_mode for i in catalog.items} == set(SharingMode)
    assert {i.disclosure for i in catalog.items} == set(DisclosureAttribute)
    # authorized data is never public; public data never needs authorization
    for item in catalog.items:
        if item.authorization_required:
            assert item.disclosure is not DisclosureAttribute.public, item.code
            assert int(item.level) >= 3, item.code


def test_field_views_of_every_item() -> None:
    """What public and full access show of each item, worked out once per item: public
    access never shows a field of level 3 or above (the field's own level, else the item's),
    and neither view repeats the subject's ``uscc``."""
    catalog = service.load_catalog()
    hidden_somewhere = False
    for item in catalog.items:
        names = [f.name for f in item.fields]
        assert [f.name for f in item.all_fields] == [n for n in names if n != "uscc"], item.code
        public = [f.name for f in item.public_fields]
        expected = [
            f.name
            for f in item.fields
            if f.name != "uscc" and (f.level or item.level) < DataLevel.sensitive
        ]
        assert public == expected, item.code
        hidden_somewhere |= len(public) < len(item.all_fields)
    assert hidden_somewhere  # the default catalog has sensitive fields (e.g. ID numbers)
    registration = catalog.item("registration")
    assert "legal_rep_id_number" in {f.name for f in registration.all_fields}
    assert "legal_rep_id_number" not in {f.name for f in registration.public_fields}


def test_export_sets_every_attribute() -> None:
    exported = json.loads(service.export_catalog(service.load_catalog()))
    attrs = [
        "code", "name", "category", "provider", "sharing_mode", "authorization_required",
        "level", "sharing", "disclosure", "update_frequency", "natural_key", "fields",
    ]  # fmt: skip
    for item in exported["items"]:
        for attr in attrs:
            assert item[attr] not in (None, ""), (item["code"], attr)
        for f in item["fields"]:
            assert all(f[k] for k in ("name", "label", "label_en", "type")), f


def test_unknown_item_names_what_to_do() -> None:
    with pytest.raises(UnknownItem, match="rongxin catalog list"):
        service.get_item(service.load_catalog(), "no_such_item")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: '1'\ntitle: x\nitems: [\n  {code: a\n")
    with pytest.raises(CatalogFileError) as err:
        service.load_catalog(path)
    assert str(path) in err.value.message
    assert "not valid YAML" in err.value.message


def test_unknown_provider_names_item_and_line(tmp_path: Path) -> None:
    text = default_text().replace("    provider: spc\n", "    provider: nobody\n", 1)
    path = _write(tmp_path, text)
    with pytest.raises(CatalogFileError) as err:
        service.load_catalog(path)
    assert "unknown provider 'nobody'" in err.value.message
    assert "court_judgment" in err.value.message


def test_bad_field_type_names_line_and_field(tmp_path: Path) -> None:
    text = default_text()
    needle = "{name: patent_type, label: 专利类型, label_en: Patent type, type: enum"
    assert needle in text
    bad = text.replace(needle, needle.replace("type: enum", "type: colour"))
    path = _write(tmp_path, bad)
    with pytest.raises(CatalogFileError) as err:
        service.load_catalog(path)
    expected_line = (
        bad.splitlines().index(next(line for line in bad.splitlines() if "type: colour" in line))
        + 1
    )
    problem = err.value.details["problems"][0]
    assert problem["line"] == expected_line
    assert problem["field"].endswith(".type")
    assert f"{path}:{expected_line}:" in err.value.message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["items"][0].update(natural_key=["nope"]), "natural_key names unknown fields"),
        (lambda d: d["items"][0]["fields"].pop(0), "needs a required field 'uscc'"),
        (lambda d: d["items"].append(dict(d["items"][0])), "duplicate item codes"),
        (lambda d: d["items"][0]["fields"][1].update(type="enum"), "needs a non-empty 'allowed'"),
        (lambda d: d["items"][0].update(level=9), "items.0.level"),
    ],
)
def test_invalid_catalogs_are_rejected(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(default_text())
    mutate(data)
    path = _write(tmp_path, yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(CatalogFileError, match=message):
        service.load_catalog(path)


def test_operator_can_extend_the_catalog(tmp_path: Path) -> None:
    data = yaml.safe_load(default_text())
    new = dict(data["items"][-1], code="local_credit_commitment", name="地方信用承诺履约")
    data["items"].append(new)
    catalog = service.load_catalog(_write(tmp_path, yaml.safe_dump(data, allow_unicode=True)))
    assert catalog.item("local_credit_commitment").name == "地方信用承诺履约"
    assert len(catalog.items) == len(service.load_catalog().items) + 1


def test_list_filters() -> None:
    catalog = service.load_catalog()
    spc = service.list_items(catalog, provider="spc")
    assert spc.total == len([i for i in catalog.items if i.provider == "spc"]) > 0
    assert all(i.provider == "spc" for i in spc.items)
    verify = service.list_items(catalog, sharing_mode="verification")
    assert {i.code for i in verify.items} == {
        i.code for i in catalog.items if i.sharing_mode is SharingMode.verification
    }
