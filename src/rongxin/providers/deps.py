"""The provider client, built once by the app's lifespan (``app.state.provider_client``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from rongxin.providers.client import ProviderClient


async def get_provider_client(request: Request) -> ProviderClient:
    client: ProviderClient = request.app.state.provider_client
    return client


ProviderClientDep = Annotated[ProviderClient, Depends(get_provider_client)]
