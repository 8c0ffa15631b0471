"""Provider-side test services and factories (importable as ``provider_factories``): real
``rongxin provider serve`` processes on loopback ports, a slow server and a closed port.

The values below are distinctive (two decimals, four or more digits) so a test can assert that
none of them ever appears in a response of the verification API or in a log.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from entity_factories import make_uscc
from sqlalchemy.orm import Session

from rongxin.access.schemas import Principal, PrincipalKind
from rongxin.catalog import service as catalog_service
from rongxin.catalog.schemas import Catalog
from rongxin.consent import lifecycle, requests
from rongxin.consent.evidence import EvidenceKey, evidence_key
from rongxin.consent.notice import load_notices
from rongxin.consent.purposes import load_templates
from rongxin.consent.schemas import AuthorizationRead, AuthorizationRequest
from rongxin.db.base import utcnow
from rongxin.providers.client import HttpProviderClient, ProviderEndpoint, load_endpoints

FIRM_A = make_uscc(body="TAXF1RM1", seed=1)
FIRM_B = make_uscc(body="TAXF2RM2", seed=2)
FIRM_NONE = make_uscc(body="N0DATA11", seed=3)
SECRET = b"0123456789abcdef0123456789abcdef"
EVIDENCE_KEY = evidence_key("providers-test-evidence-key")
CERTIFICATE = "闽(2024)福州市不动产权第0012345号"

TAX_PAYMENT = [
    # uscc, period, tax_type, taxable_revenue, tax_paid, declared_on_time
    (FIRM_A, "2025-01", "增值税", "50000.11", "1000.37", "true"),
    (FIRM_A, "2025-06", "增值税", "60000.22", "2000.29", "true"),
    (FIRM_A, "2025-12", "企业所得税", "", "30000.61", "false"),
    (FIRM_A, "2026-03", "增值税", "70000.33", "4000.83", "true"),
    (FIRM_B, "2025-02", "增值税", "10000.44", "7777.71", "true"),
]
TAX_CREDIT_RATING = [
    (FIRM_A, "2024", "A", "91.37", "2025-04-20"),
    (FIRM_A, "2025", "B", "85.19", "2026-04-18"),
]
REAL_ESTATE = [
    {
        "uscc": FIRM_A,
        "certificate_no": CERTIFICATE,
        "property_type": "房屋所有权",
        "location": "福建省福州市鼓楼区软件大道89号A座1203",
        "area": 1234.56,
        "registration_date": "2024-05-06",
        "encumbrance": "已抵押",
    }
]
#: stored values that must never come back from verification nor be logged
SECRET_VALUES = ("1000.37", "2000.29", "30000.61", "4000.83", "91.37", "1234.56", "0012345")


def write_sat(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["uscc,period,tax_type,taxable_revenue,tax_paid,declared_on_time"]
    lines += [",".join(row) for row in TAX_PAYMENT]
    (folder / "tax_payment.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["uscc,rating_year,grade,score,rated_date"]
    lines += [",".join(row) for row in TAX_CREDIT_RATING]
    (folder / "tax_credit_rating.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def write_mnr(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in REAL_ESTATE)
    (folder / "real_estate.jsonl").write_text(text, encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ProviderProcess:
    code: str
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def log_events(self) -> list[dict[str, Any]]:
        events = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events


def _launch(code: str, data: Path, secret_file: Path, log_path: Path) -> ProviderProcess:
    port = free_port()
    env = {**os.environ, "RONGXIN_LOG_JSON": "true", "RONGXIN_LOG_LEVEL": "INFO"}
    command = [
        sys.executable, "-m", "rongxin.cli_main", "provider", "serve",
        "--provider", code, "--data", str(data), "--client-secret-file", str(secret_file),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    return ProviderProcess(code, f"http://127.0.0.1:{port}", log_path, process)


def _wait_ready(started: ProviderProcess) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if started.process.poll() is not None:
            raise RuntimeError(f"provider serve exited: {started.log_text()}")
        try:
            response = httpx2.get(f"{started.url}/healthz", timeout=1.0, trust_env=False)
            if response.status_code == 200:
                return
        except httpx2.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"provider serve did not start: {started.log_text()}")


@dataclass
class Providers:
    sat: ProviderProcess
    mnr: ProviderProcess
    secret_file: Path
    endpoints_path: Path


@pytest.fixture(scope="session")
def providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Providers]:
    """``rongxin provider serve`` for sat (CSV) and mnr (JSONL, in the synth layout)."""
    root = tmp_path_factory.mktemp("provider")
    secret_file = root / "secrets" / "shared.key"
    secret_file.parent.mkdir()
    secret_file.write_bytes(SECRET + b"\n")
    secret_file.chmod(0o600)
    sat_data = write_sat(root / "sat-data")
    mnr_root = root / "mnr-data"
    write_mnr(mnr_root / "mnr")  # the layout `rongxin synth` writes: <out>/<provider>/<item>
    started: list[ProviderProcess] = []
    try:
        started.append(_launch("sat", sat_data, secret_file, root / "sat.log"))
        started.append(_launch("mnr", mnr_root, secret_file, root / "mnr.log"))
        for p in started:
            _wait_ready(p)
        sat, mnr = started
        endpoints = root / "endpoints.yaml"
        endpoints.write_text(
            "providers:\n"
            f"  sat: {{base_url: '{sat.url}', secret_file: secrets/shared.key, "
            "timeout_seconds: 10}\n"
            f"  mnr: {{base_url: '{mnr.url}/', secret_file: {secret_file}}}\n",
            encoding="utf-8",
        )
        yield Providers(sat, mnr, secret_file, endpoints)
    finally:
        for p in started:
            p.process.terminate()
            p.process.wait(timeout=10)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return catalog_service.load_catalog()


@pytest.fixture
def provider_client(providers: Providers, catalog: Catalog) -> Iterator[HttpProviderClient]:
    client = HttpProviderClient(load_endpoints(providers.endpoints_path, catalog=catalog))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def slow_url() -> Iterator[str]:
    """A server that holds every request far longer than the client's timeout."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(10)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def scripted_url() -> Iterator[tuple[str, list[tuple[int, bytes]]]]:
    """A server answering each POST with the next scripted (status, body)."""
    script: list[tuple[int, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, body = script.pop(0) if script else (200, b"{}")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", script
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def endpoint(code: str, url: str, *, timeout: float = 5.0) -> ProviderEndpoint:
    return ProviderEndpoint(code=code, base_url=url, secret=SECRET, timeout_seconds=timeout)


def grant(
    session: Session,
    uscc: str,
    items: list[str],
    *,
    institution: str = "bank-fz",
    data_from: date = date(2024, 1, 1),
    data_to: date = date(2025, 12, 31),
    now: datetime | None = None,
    key: EvidenceKey = EVIDENCE_KEY,
    **terms: Any,
) -> AuthorizationRead:
    """An enterprise authorization, requested by ``institution`` and approved by ``uscc`` at
    ``now`` (default: the current time), through the real consent lifecycle so the real policy
    decision point finds it; ``terms`` replace fields of the request (``purpose``,
    ``access_mode``, ``retention_days`` …); the consent evidence is signed with ``key``."""
    now = now or utcnow()
    spec = AuthorizationRequest.model_validate(
        {
            "uscc": uscc,
            "loan_application_ref": "LA-2026-0042",
            "purpose": "pre_loan",
            "items": items,
            "access_mode": "verify_only",
            "data_from_date": data_from,
            "data_to_date": data_to,
            "retention_days": 30,
            "valid_until": now + timedelta(days=20),
            **terms,
        }
    )
    requested = requests.request_authorization(
        session,
        catalog=catalog_service.load_catalog(),
        templates=load_templates(),
        institution_code=institution,
        spec=spec,
        actor=Principal(kind=PrincipalKind.institution, code=institution, key_id="k-bank"),
        now=now,
    )
    notices = load_notices()
    return lifecycle.approve(
        session,
        authorization_id=requested.id,
        uscc=uscc,
        actor=Principal(kind=PrincipalKind.enterprise, code=uscc, key_id="k-firm"),
        risk_notice_sha256=notices.in_force(now).sha256,
        notices=notices,
        key=key,
        now=now,
    )
