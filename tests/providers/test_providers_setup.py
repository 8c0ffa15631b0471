"""What a deployment is made of: the signing rules, the provider's data store, the platform's
endpoints file and the ``rongxin provider`` commands."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from provider_factories import FIRM_A, SECRET, write_mnr, write_sat
from typer.testing import CliRunner

from rongxin.catalog.schemas import Catalog, SharingMode
from rongxin.errors import InvalidInput
from rongxin.ingest.errors import FileRejected
from rongxin.providers import cli as provider_cli
from rongxin.providers import signing
from rongxin.providers.client import build_client, load_endpoints
from rongxin.providers.errors import EndpointsFileError, SignatureRejected
from rongxin.providers.store import ProviderStore
from rongxin.synth.service import generate

# ---- signing ------------------------------------------------------------------------------------


def _headers(body: bytes, now: float, **change: str) -> dict[str, str]:
    signed = signing.sign_headers(SECRET, method="POST", path="/query", body=body, now=now)
    return {k.lower(): v for k, v in {**signed, **change}.items()}


def test_verifier_accepts_once_and_rejects_the_rest() -> None:
    now = 1_767_686_400.0
    verifier = signing.Verifier(SECRET, clock=lambda: now)
    body = b'{"a": 1}'
    headers = _headers(body, now)
    verifier.check(headers, method="POST", path="/query", body=body)
    cases = {
        "replayed_nonce": (headers, "/query", body),
        "bad_signature": (_headers(body, now), "/verify", body),
        "stale_timestamp": (_headers(body, now - 301), "/query", body),
        "bad_timestamp": (_headers(body, now, **{signing.TIMESTAMP_HEADER: "soon"}), "/query",
                          body),
        "bad_nonce": (_headers(body, now, **{signing.NONCE_HEADER: "short"}), "/query", body),
        "missing_headers": ({}, "/query", body),
    }  # fmt: skip
    for reason, (given, path, sent) in cases.items():
        with pytest.raises(SignatureRejected) as caught:
            verifier.check(given, method="POST", path=path, body=sent)
        assert caught.value.details["reason"] == reason
        assert caught.value.status == 401
    verifier.check(_headers(body, now + 299), method="POST", path="/query", body=body)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        signing.Verifier(b"short")


def test_the_nonce_cache_forgets_old_nonces() -> None:
    cache = signing.NonceCache(window_seconds=10)
    assert cache.add("n" * 16, 0.0)
    assert not cache.add("n" * 16, 5.0)
    for n in range(1100):
        cache.add(f"{n:016d}", 100.0)
    assert cache.add("n" * 16, 100.0)  # forgotten after the window: the timestamp refuses it


# ---- the provider's store -----------------------------------------------------------------------


def test_store_loads_the_served_items_sorted_by_uscc(catalog: Catalog, tmp_path: Path) -> None:
    write_sat(tmp_path)
    (tmp_path / "tax_arrears.csv").write_text("not,a,served,item\n", encoding="utf-8")
    store = ProviderStore.load(catalog, provider_code="sat", data_dir=tmp_path)
    assert store.item_codes == ["tax_credit_rating", "tax_payment"]  # physical items ignored
    rows = store.rows("tax_payment", FIRM_A)
    assert [r["period"] for r in rows] == ["2025-01", "2025-06", "2025-12", "2026-03"]
    assert rows[0]["tax_paid"] == 1000.37
    assert store.rows("tax_credit_rating", FIRM_A)[0]["rated_date"] == "2025-04-20"
    assert store.rows("tax_payment", "91350100M000100Y43") == []


def test_store_rejects_a_bad_file_naming_line_and_field(catalog: Catalog, tmp_path: Path) -> None:
    write_sat(tmp_path)
    path = tmp_path / "tax_payment.csv"
    path.write_text(
        path.read_text("utf-8") + f"{FIRM_A},2025-13,增值税,1,2,true\n", encoding="utf-8"
    )
    with pytest.raises(FileRejected) as caught:
        ProviderStore.load(catalog, provider_code="sat", data_dir=tmp_path)
    assert "tax_payment.csv, line 7, field period: not a month" in caught.value.message


@pytest.mark.parametrize(
    ("provider", "folder", "field", "words"),
    [
        ("nope", "data", "provider", "not in the catalog"),
        ("ndrc", "data", "provider", "nothing to serve"),
        ("sat", "missing", "data", "no such folder"),
        ("nfra", "data", "data", "insurance_coverage.csv"),
    ],
)
def test_store_errors_name_the_option(
    catalog: Catalog, tmp_path: Path, provider: str, folder: str, field: str, words: str
) -> None:
    write_sat(tmp_path / "data")
    with pytest.raises(InvalidInput) as caught:
        ProviderStore.load(catalog, provider_code=provider, data_dir=tmp_path / folder)
    assert caught.value.details["field"] == field
    assert words in caught.value.message


def test_store_refuses_two_files_for_one_item(catalog: Catalog, tmp_path: Path) -> None:
    write_mnr(tmp_path)
    (tmp_path / "real_estate.csv").write_text("uscc\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="more than one file for item real_estate"):
        ProviderStore.load(catalog, provider_code="mnr", data_dir=tmp_path)


def test_store_serves_what_rongxin_synth_writes(catalog: Catalog, tmp_path: Path) -> None:
    summary = generate(catalog, enterprises=40, seed=5, out=tmp_path, months=3)
    store = ProviderStore.load(catalog, provider_code="sat", data_dir=tmp_path)
    assert store.item_codes == ["rd_expense_deduction", "tax_credit_rating", "tax_payment"]
    written = {f.item: f.rows for f in summary.files}
    for code in store.item_codes:
        assert store.served(code).rows == written[code]
    mnr = ProviderStore.load(catalog, provider_code="mnr", data_dir=tmp_path)
    assert mnr.served("real_estate").rows == written["real_estate"]


# ---- the platform's endpoints file --------------------------------------------------------------


def _endpoints(tmp_path: Path, text: str, secret: bytes = SECRET) -> Path:
    (tmp_path / "sat.key").write_bytes(secret)
    path = tmp_path / "endpoints.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_endpoints_file_is_read(catalog: Catalog, tmp_path: Path) -> None:
    path = _endpoints(
        tmp_path,
        "providers:\n  sat: {base_url: 'https://sat.internal:8443/rx/', secret_file: sat.key}\n",
    )
    (sat,) = load_endpoints(path, catalog=catalog).values()
    assert (sat.code, sat.base_url, sat.timeout_seconds) == (
        "sat",
        "https://sat.internal:8443/rx",
        5.0,
    )
    assert sat.secret == SECRET
    assert SECRET.decode() not in repr(sat)
    client = build_client(path, catalog=catalog)
    assert client.providers == ["sat"]
    client.close()
    assert build_client(None).providers == []


@pytest.mark.parametrize(
    ("text", "secret", "words"),
    [
        ("providers:\n  tax: {base_url: 'http://x', secret_file: sat.key}\n", SECRET,
         "providers.tax: not a provider in the catalog"),
        ("providers:\n  sat: {base_url: 'ftp://x', secret_file: sat.key}\n", SECRET,
         "providers.sat.base_url"),
        ("providers:\n  sat: {base_url: 'http://x', secret_file: gone.key}\n", SECRET,
         "cannot read secret file"),
        ("providers:\n  sat: {base_url: 'http://x', secret_file: sat.key}\n", b"short",
         "fewer than 16 bytes"),
        ("providers:\n  sat: {base_url: 'http://x', secret_file: sat.key, timeout_seconds: 0}\n",
         SECRET, "providers.sat.timeout_seconds"),
        ("providers: [\n", SECRET, "not valid YAML"),
    ],
)  # fmt: skip
def test_endpoints_file_errors_name_the_entry(
    catalog: Catalog, tmp_path: Path, text: str, secret: bytes, words: str
) -> None:
    path = _endpoints(tmp_path, text, secret)
    with pytest.raises(EndpointsFileError) as caught:
        load_endpoints(path, catalog=catalog)
    assert words in caught.value.message
    assert str(path) in caught.value.message
    assert SECRET.decode() not in caught.value.message


# ---- the commands -------------------------------------------------------------------------------


runner = CliRunner()


def test_provider_check_prints_items_and_rows(tmp_path: Path) -> None:
    write_sat(tmp_path)
    args = ["check", "--provider", "sat", "--data", str(tmp_path)]
    result = runner.invoke(provider_cli.app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "provider": "sat",
        "items": {"tax_credit_rating": 2, "tax_payment": 5},
    }


def test_provider_serve_refuses_a_bad_secret_file(tmp_path: Path) -> None:
    write_sat(tmp_path)
    (tmp_path / "weak.key").write_text("abc\n", encoding="utf-8")
    result = runner.invoke(
        provider_cli.app,
        ["serve", "--provider", "sat", "--data", str(tmp_path),
         "--client-secret-file", str(tmp_path / "weak.key")],
    )  # fmt: skip
    assert isinstance(result.exception, EndpointsFileError)
    assert "fewer than 16 bytes" in result.exception.message
    assert "abc" not in result.exception.message


# ---- the demo's provider services (scripts/demo-providers.sh) -----------------------------------

_CHECK_NODE_SIDE = """
import json, os, sys, time
from pathlib import Path
import httpx2
from rongxin.providers.client import load_endpoints
endpoints = load_endpoints(Path(os.environ["RONGXIN_PROVIDER_ENDPOINTS_PATH"]))
served = {}
for code, endpoint in endpoints.items():
    deadline = time.monotonic() + 90
    while True:
        try:
            served[code] = httpx2.get(endpoint.base_url + "/healthz", timeout=2).json()["items"]
            break
        except httpx2.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
print(json.dumps({"served": served, "ports": [e.base_url for e in endpoints.values()]}))
"""


def _free_base_port(count: int) -> int:
    for _ in range(50):
        base = random.randrange(20_000, 60_000)
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise AssertionError("no free ports")


def test_demo_runs_a_service_for_every_provider_the_node_asks(
    catalog: Catalog, tmp_path: Path
) -> None:
    """`make demo`'s last step: a service per provider of interface or verification items, on
    the synth files, with an endpoints file and secrets the node accepts; stopped afterwards."""

    generate(catalog, enterprises=30, seed=3, out=tmp_path / "synth", months=2)
    wanted: dict[str, list[str]] = {}
    for item in catalog.items:
        if item.sharing_mode is not SharingMode.physical:
            wanted.setdefault(item.provider, []).append(item.code)
    script = Path(__file__).parents[2] / "scripts" / "demo-providers.sh"
    state = tmp_path / "state"
    result = subprocess.run(
        [str(script), sys.prefix, str(tmp_path / "synth"), str(state),
         sys.executable, "-c", _CHECK_NODE_SIDE],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DEMO_PROVIDER_PORT": str(_free_base_port(len(wanted)))},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["served"] == {code: sorted(items) for code, items in wanted.items()}
    for code in wanted:
        assert (state / f"{code}.key").stat().st_mode & 0o077 == 0
    for url in answer["ports"]:  # the services ended with the command
        with pytest.raises(httpx2.HTTPError):
            httpx2.get(url + "/healthz", timeout=2)
