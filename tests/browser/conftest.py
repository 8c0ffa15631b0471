"""Browser tests: a real uvicorn server on a fresh, seeded database, driven by Chromium.

Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``; .ci/run installs it with
``fonts-noto-cjk``): ``playwright install`` cannot download browsers here. A missing browser is
an error, never a skip. Screenshots go to ``RONGXIN_SCREENSHOT_DIR`` when set, else a tmp dir.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from browser_support import LiveServer, Problems, Tab
from playwright.sync_api import Browser, Playwright, sync_playwright
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from rongxin.access import service as access_service
from rongxin.access.schemas import PrincipalKind
from rongxin.app import create_app
from rongxin.catalog import service as catalog_service
from rongxin.config import Environment, Settings
from rongxin.db import migrate
from rongxin.db.models import metadata
from rongxin.db.session import build_engine
from rongxin.entities.models import MarketEntity
from rongxin.ingest.service import Delivery, ingest_file
from rongxin.synth import service as synth

CHROMIUM = os.environ.get("RONGXIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DELIVERIES = (  # (provider, item): registration first, it creates the entities
    ("samr", "registration"),
    ("gsxt", "annual_report"),
    ("spc", "court_judgment"),
    ("ndrc", "admin_penalty"),
    ("ndrc", "admin_license"),
    ("sat", "tax_a_grade"),
)


@pytest.fixture(scope="session")
def browser_db_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of the suite's engine: a SQLite file, or a new PostgreSQL database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'browser.db'}"
        return
    name = f"rx_browser_{os.getpid()}_{int(time.time() * 1000) % 100000}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(settings: Settings, package: Path) -> tuple[str, str, str]:
    """Migrate, ingest the package's deliveries and create an operator key."""
    engine = build_engine(settings)
    migrate.upgrade(engine)
    metadata.create_all(engine)  # tables not yet covered by a migration (development)
    catalog = catalog_service.load_catalog()
    with Session(engine) as session:
        for provider, item in DELIVERIES:
            delivery = Delivery(
                path=package / provider / f"{item}.csv", provider_code=provider, item_code=item
            )
            ingest_file(session, catalog=catalog, delivery=delivery, origin_node="browser")
        for path in _later_judgments(package):  # more points on spc's quality trend
            delivery = Delivery(path=path, provider_code="spc", item_code="court_judgment")
            ingest_file(session, catalog=catalog, delivery=delivery, origin_node="browser")
        token = access_service.create_api_key(
            session, kind=PrincipalKind.operator, code="ops", label="browser tests"
        ).token
        entity = session.scalars(select(MarketEntity).order_by(MarketEntity.uscc).limit(1)).one()
        uscc, name = entity.uscc, entity.name
        session.commit()
    engine.dispose()
    return token, uscc, name


def _later_judgments(package: Path) -> list[Path]:
    """Two later court-judgment deliveries: one rejected (a bad USCC), one with gaps."""
    source = package / "spc" / "court_judgment.csv"
    with source.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rejected = [dict(r) for r in rows]
    rejected[0]["uscc"] = "91XXBAD"
    gaps = [{**r, "amount": "", "result": ""} if i % 2 else r for i, r in enumerate(rows)]
    out = []
    for name, data in (("rejected", rejected), ("gaps", gaps)):
        path = package / f"court_judgment-{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(data)
        out.append(path)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(
    browser_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    package = tmp_path_factory.mktemp("browser-package")
    synth.generate(catalog_service.load_catalog(), enterprises=40, seed=3, out=package, months=2)
    settings = Settings(
        environment=Environment.test,
        database_url=browser_db_url,
        data_dir=tmp_path_factory.mktemp("browser-var"),
        node_id="browser-node",
        log_level="WARNING",
    )
    token, uscc, name = _seed(settings, package)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-browser-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the uvicorn server for the browser tests did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", token, uscc, name)
    server.should_exit = True
    thread.join(timeout=10)


# Module scope: Playwright's sync API runs an event loop in the main thread while it is open,
# and later test modules (the group-commit writer's) start their own with asyncio.run.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file() and shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium fonts-noto-cjk` "
            "(the browser tests never skip)",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("RONGXIN_SCREENSHOT_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def _tab(
    browser: Browser, server: LiveServer, shots: Path, *, width: int, height: int
) -> Iterator[Tab]:
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", base_url=server.base_url
    )
    page = context.new_page()
    problems = Problems()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    page.on("requestfailed", problems.on_request_failed)
    page.on("response", problems.on_response)
    yield Tab(page, problems, server.base_url, shots)
    context.close()
    problems.assert_clean()  # whatever a test did not check itself still fails it


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Tab]:
    """A desktop-sized page (1280 × 900) in a fresh browser context."""
    yield from _tab(browser, live_server, screenshots, width=1280, height=900)


@pytest.fixture
def phone(browser: Browser, live_server: LiveServer, screenshots: Path) -> Iterator[Tab]:
    """A 390 px wide page (a phone) in a fresh browser context."""
    yield from _tab(browser, live_server, screenshots, width=390, height=844)
