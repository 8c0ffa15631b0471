"""Credit repair (信用修复, issue 6 G4): the enterprise's application form
``/rights/repairs/new`` (with the publicity terms of the record), one application
``/rights/repairs/{id}`` and the actions on it — withdraw (the enterprise), approve or reject
(the providing department or operators; an approval re-rates the enterprise).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.rights import objections, repair
from rongxin.rights import service as rights_service
from rongxin.rights.deps import CalendarDep, CommitmentsDep, RulesDep
from rongxin.rights.errors import InvalidRightsRequest
from rongxin.rights.rules import RightsRules
from rongxin.rights.schemas import CaseKind, RepairCreate, RepairRead, RepairReview, RepairStatus
from rongxin.web import i18n
from rongxin.web.auth import CsrfForm, WebPrincipal
from rongxin.web.pages import PageRoute, error_page
from rongxin.web.pages_rights import (
    TEXT_MAX,
    Back,
    CaseViewer,
    Done,
    EnterpriseOwner,
    Note,
    RepairReviewer,
    act,
    back_to,
    case_page,
)
from rongxin.web.pages_rights_evidence import attach_to_case
from rongxin.web.pages_rights_forms import (
    CaseForm,
    SignedCaseFormDep,
    check_text,
    file_signed,
    form_page,
    record_of,
    validated,
)
from rongxin.web.rendering import locale_of

rights_repairs_router = APIRouter(include_in_schema=False, route_class=PageRoute)


# ---- the form -----------------------------------------------------------------------------------


def _repair_page(
    request: Request,
    *,
    session: Session,
    catalog: Catalog,
    rules: RightsRules,
    texts: rights_service.CommitmentTexts,
    principal: WebPrincipal,
    form: CaseForm,
    **problem: Any,
) -> Response:
    item = objections.subject_item(catalog, form.item)
    if item.code not in rules.repairable_items():
        locale = locale_of(request)
        return error_page(
            request,
            status=422,
            message=i18n.translate(locale, "rights.error_not_repairable_item"),
            back=("/rights", i18n.translate(locale, "rights.back_hub")),
        )
    record = record_of(session, catalog, principal.code, form)
    terms = repair.publicity(rules, record, objections.china_today())
    context = {
        "item": item,
        "record": record,
        "fields": [f for f in item.fields if f.name != "uscc"],
        "terms": terms,
        "form": form,
        "open_ok": record.status in repair.REPAIRABLE,
    }
    return form_page(
        request, "rights/repair_new.html", context=context, catalog=catalog, texts=texts, **problem
    )


@rights_repairs_router.get("/rights/repairs/new", name="rights_repair_new")
def rights_repair_new(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    catalog: CatalogDep,
    rules: RulesDep,
    texts: CommitmentsDep,
    item: Annotated[str, Query(max_length=64)],
    key: Annotated[str, Query(max_length=512)],
) -> Response:
    return _repair_page(
        request,
        session=session,
        catalog=catalog,
        rules=rules,
        texts=texts,
        principal=principal,
        form=CaseForm(item=item, key=key),
    )


@rights_repairs_router.post("/rights/repairs", name="rights_repair_apply")
def rights_repair_apply(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    rules: RulesDep,
    calendar: CalendarDep,
    texts: CommitmentsDep,
    signed: SignedCaseFormDep,
    correction: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    locale = locale_of(request)
    form = signed.case_form(correction)

    def file() -> str:
        body = validated(
            RepairCreate,
            {
                "item_code": signed.item,
                "record_key": signed.key,
                "correction": check_text(locale, correction, name="correction", minimum=10),
                "commitment": signed.commitment,
            },
        )
        made = repair.apply(
            session,
            catalog=catalog,
            rules=rules,
            calendar=calendar,
            texts=texts,
            principal=principal.principal,
            body=body,
        )
        return attach_to_case(
            session,
            settings=settings,
            uscc=principal.code,
            kind=CaseKind.repair,
            case_id=made.id,
            uploads=signed.files,
        )

    show = partial(
        _repair_page,
        request,
        session=session,
        catalog=catalog,
        rules=rules,
        texts=texts,
        principal=principal,
        form=form,
    )
    return file_signed(
        request,
        session,
        csrf=signed.csrf,
        committed=signed.committed,
        show=show,
        file=file,
        done="applied",
    )


# ---- one case -----------------------------------------------------------------------------------


@rights_repairs_router.get("/rights/repairs/{application_id}", name="rights_repair")
def rights_repair(
    request: Request,
    application_id: str,
    principal: CaseViewer,
    session: SessionDep,
    catalog: CatalogDep,
    done: Done = "",
) -> Response:
    r = repair.get(session, application_id=application_id, principal=principal.principal)
    kind = principal.kind
    open_ = r.status is RepairStatus.submitted
    context = {
        "r": r,
        "can_withdraw": kind is PrincipalKind.enterprise and open_,
        "can_review": kind in (PrincipalKind.provider, PrincipalKind.operator) and open_,
    }
    return case_page(request, session, catalog, principal, r, context, done=done)


# ---- actions on a case --------------------------------------------------------------------------


@rights_repairs_router.post(
    "/rights/repairs/{application_id}/withdraw", name="rights_repair_withdraw"
)
def rights_repair_withdraw(
    request: Request,
    application_id: str,
    principal: EnterpriseOwner,
    session: SessionDep,
    csrf: CsrfForm = "",
) -> Response:
    return act(
        request,
        session,
        csrf=csrf,
        back=f"/rights/repairs/{application_id}",
        done="withdrawn",
        run=lambda: repair.withdraw(
            session, application_id=application_id, principal=principal.principal
        ),
    )


@rights_repairs_router.post("/rights/repairs/{application_id}/review", name="rights_repair_review")
def rights_repair_review(
    request: Request,
    application_id: str,
    principal: RepairReviewer,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    rules: RulesDep,
    csrf: CsrfForm = "",
    decision: Annotated[str, Form(max_length=8)] = "",
    note: Note = "",
    back: Back = "",
) -> Response:
    locale = locale_of(request)

    def run() -> RepairRead:
        if decision not in ("approve", "reject"):
            raise InvalidRightsRequest(
                i18n.translate(locale, "rights.error_decision"), field="decision"
            )
        body = RepairReview(
            approve=decision == "approve",
            note=check_text(locale, note, name="note", minimum=2),
        )
        return repair.review(
            session,
            application_id=application_id,
            principal=principal.principal,
            body=body,
            rules=rules,
            rerate=repair.rerate_hook(catalog, settings, f"repair:{application_id}"),
        )

    return act(
        request,
        session,
        csrf=csrf,
        back=back_to(back, f"/rights/repairs/{application_id}"),
        done="approved" if decision == "approve" else "rejected",
        run=run,
    )
