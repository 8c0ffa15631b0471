"""``rongxin provider``: the service a data provider (department) runs next to its own data."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Annotated

import typer

from rongxin.catalog import service as catalog_service
from rongxin.cli_support import emit_json, settings_or_exit
from rongxin.entities import service as entities_service
from rongxin.logging import configure_logging, get_logger
from rongxin.providers.client import read_secret
from rongxin.providers.store import ProviderStore

app = typer.Typer(
    help="数据提供单位服务 — the provider-side service for interface call (接口调用) and "
    "data verification (数据核验).",
    no_args_is_help=True,
)
log = get_logger("rongxin.provider")

ProviderOpt = Annotated[
    str, typer.Option("--provider", help="The provider's catalog code, e.g. sat or mnr.")
]
DataOpt = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Folder with the provider's item files (<item>.csv|.jsonl|.parquet, or the "
        "<provider>/ subfolder `rongxin synth` writes).",
    ),
]


def _load(provider: str, data: Path) -> ProviderStore:
    settings = settings_or_exit()
    configure_logging(level=settings.log_level, json=settings.log_json)
    catalog = catalog_service.load_catalog(settings.catalog_path)
    allow_list = entities_service.load_allow_list(settings.uscc_allowlist_path)
    return ProviderStore.load(catalog, provider_code=provider, data_dir=data, allow_list=allow_list)


@app.command()
def check(provider: ProviderOpt, data: DataOpt) -> None:
    """Load and validate the provider's files as `serve` would; print the items and row counts."""
    store = _load(provider, data)
    emit_json(
        {
            "provider": store.provider_code,
            "items": {code: store.served(code).rows for code in store.item_codes},
        }
    )


@app.command()
def serve(
    provider: ProviderOpt,
    data: DataOpt,
    client_secret_file: Annotated[
        Path,
        typer.Option(
            "--client-secret-file",
            help="File holding the secret shared with the platform (at least 16 bytes; "
            "e.g. `openssl rand -hex 32`).",
        ),
    ],
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8700,
) -> None:
    """Serve POST /query and POST /verify for the platform, from the provider's own files."""
    import uvicorn

    from rongxin.providers.server import create_provider_app

    secret = read_secret(client_secret_file, what="--client-secret-file")
    if client_secret_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "secret_file_readable_by_others",
            file=str(client_secret_file),
            hint="chmod 600 the secret file",
        )
    store = _load(provider, data)
    settings = settings_or_exit()
    log.info("provider_serve", provider=provider, items=store.item_codes, host=host, port=port)
    uvicorn.run(
        create_provider_app(store, secret=secret),
        host=host,
        port=port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
