"""Self-reported information (自主填报, issue 6 S3): the enterprise's form
``/rights/self-reports/new``. It picks one of the catalog's self-reported items, fills in its
fields (the platform sets the code, the commitment version, a statement id and the event date),
signs the credit commitment and may attach evidence; the entry shows in its report.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response

from rongxin.catalog.schemas import Catalog, FieldDef, FieldType, Item
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.rights import self_reported
from rongxin.rights import service as rights_service
from rongxin.rights.deps import CommitmentsDep
from rongxin.rights.schemas import SelfReportCreate
from rongxin.web.pages import PageRoute
from rongxin.web.pages_rights import EnterpriseOwner, FormDep, text_of
from rongxin.web.pages_rights_evidence import attach_uploads
from rongxin.web.pages_rights_forms import echo, file_signed, form_page, validated

#: catalog fields the platform fills in on a self-report (the event date defaults to today)
PLATFORM_FIELDS: Final = frozenset(
    {"uscc", self_reported.COMMITMENT_FIELD, self_reported.STATEMENT_ID_FIELD}
)
VALUE_PREFIX: Final = "v_"  # self-report inputs

rights_self_reports_router = APIRouter(include_in_schema=False, route_class=PageRoute)


def self_report_fields(item: Item) -> list[FieldDef]:
    """The fields the enterprise fills in (the platform sets the code, the commitment version,
    a statement id, and the event date to today)."""
    return [
        f for f in item.fields if f.name not in PLATFORM_FIELDS and f.name != item.event_date_field
    ]


def _self_item(catalog: Catalog, code: str) -> Item | None:
    return next((i for i in self_reported.self_reported_items(catalog) if i.code == code), None)


def _self_report_page(
    request: Request,
    *,
    catalog: Catalog,
    texts: rights_service.CommitmentTexts,
    item_code: str,
    values: dict[str, str] | None = None,
    **problem: Any,
) -> Response:
    item = _self_item(catalog, item_code) if item_code else None
    context = {
        "items": self_reported.self_reported_items(catalog),
        "item": item,
        "fields": self_report_fields(item) if item else [],
        "values": values or {},
        "field_types": FieldType,
    }
    return form_page(
        request,
        "rights/self_report_new.html",
        context=context,
        catalog=catalog,
        texts=texts,
        **problem,
    )


@rights_self_reports_router.get("/rights/self-reports/new", name="rights_self_report_new")
def rights_self_report_new(
    request: Request,
    principal: EnterpriseOwner,
    catalog: CatalogDep,
    texts: CommitmentsDep,
    item: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _self_report_page(request, catalog=catalog, texts=texts, item_code=item)


@rights_self_reports_router.post("/rights/self-reports", name="rights_self_report_submit")
def rights_self_report_submit(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    texts: CommitmentsDep,
    form: FormDep,
) -> Response:
    item_code = text_of(form, "item", 64)
    item = _self_item(catalog, item_code)
    names = [f.name for f in self_report_fields(item)] if item else []
    typed = {n: text_of(form, VALUE_PREFIX + n).strip() for n in names}

    def file() -> str:
        body = validated(
            SelfReportCreate,
            {
                "item_code": item_code,
                "values": {k: v for k, v in typed.items() if v != ""},
                "commitment": echo(
                    text_of(form, "commitment_version", 32),
                    text_of(form, "commitment_sha256", 64),
                ),
            },
        )
        made = self_reported.submit(
            session,
            catalog=catalog,
            texts=texts,
            principal=principal.principal,
            body=body,
            origin_node=settings.node_id,
        )
        attach_uploads(
            session,
            settings=settings,
            uscc=principal.code,
            owner_kind=self_reported.OWNER_KIND,
            owner_id=self_reported.owner_id(made.item_code, made.record_key),
            uploads=form.getlist("files"),
        )
        return "/rights"

    show = partial(
        _self_report_page, request, catalog=catalog, texts=texts, item_code=item_code, values=typed
    )
    return file_signed(
        request,
        session,
        csrf=text_of(form, "csrf", 100),
        committed=text_of(form, "committed", 8),
        show=show,
        file=file,
        done="reported",
        anchor="#report-section-self_reported",
    )
