"""Objections (异议, issue 6 G4): the enterprise's form ``/rights/objections/new``, one case
``/rights/objections/{id}`` and the actions on it — withdraw (the enterprise), accept or reject
(operators), answer with the check result and corrected values (the providing department).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from sqlalchemy.orm import Session

from rongxin.access.schemas import PrincipalKind
from rongxin.catalog.schemas import Catalog
from rongxin.deps import CatalogDep, SessionDep, SettingsDep
from rongxin.rights import objections
from rongxin.rights import service as rights_service
from rongxin.rights.deps import CalendarDep, CommitmentsDep, RulesDep
from rongxin.rights.errors import InvalidRightsRequest
from rongxin.rights.schemas import (
    OPEN_OBJECTION,
    CaseKind,
    ObjectionAnswer,
    ObjectionCreate,
    ObjectionOutcome,
    ObjectionStatus,
)
from rongxin.web import i18n
from rongxin.web.auth import CsrfForm, OperatorPrincipal, WebPrincipal
from rongxin.web.pages import PageRoute
from rongxin.web.pages_rights import (
    TEXT_MAX,
    Back,
    CaseViewer,
    Done,
    EnterpriseOwner,
    FormDep,
    Note,
    ProviderOwner,
    act,
    back_to,
    case_page,
    text_of,
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
from rongxin.web.pages_rights_handling import answer_view, corrected_values
from rongxin.web.rendering import locale_of

rights_objections_router = APIRouter(include_in_schema=False, route_class=PageRoute)


# ---- the form -----------------------------------------------------------------------------------


def _objection_page(
    request: Request,
    *,
    session: Session,
    catalog: Catalog,
    texts: rights_service.CommitmentTexts,
    principal: WebPrincipal,
    form: CaseForm,
    **problem: Any,
) -> Response:
    record = record_of(session, catalog, principal.code, form)
    item = objections.subject_item(catalog, form.item)
    context = {
        "item": item,
        "record": record,
        "fields": [f for f in item.fields if f.name != "uscc"],
        "form": form,
        "objectable": record.status in objections.OBJECTABLE,
    }
    return form_page(
        request,
        "rights/objection_new.html",
        context=context,
        catalog=catalog,
        texts=texts,
        **problem,
    )


@rights_objections_router.get("/rights/objections/new", name="rights_objection_new")
def rights_objection_new(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    catalog: CatalogDep,
    texts: CommitmentsDep,
    item: Annotated[str, Query(max_length=64)],
    key: Annotated[str, Query(max_length=512)],
) -> Response:
    return _objection_page(
        request,
        session=session,
        catalog=catalog,
        texts=texts,
        principal=principal,
        form=CaseForm(item=item, key=key),
    )


@rights_objections_router.post("/rights/objections", name="rights_objection_file")
def rights_objection_file(
    request: Request,
    principal: EnterpriseOwner,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    rules: RulesDep,
    calendar: CalendarDep,
    texts: CommitmentsDep,
    signed: SignedCaseFormDep,
    fields: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    locale = locale_of(request)
    form = signed.case_form(reason, tuple((fields or [])[:50]))

    def file() -> str:
        body = validated(
            ObjectionCreate,
            {
                "item_code": signed.item,
                "record_key": signed.key,
                "fields": list(form.fields),
                "reason": check_text(locale, reason, name="reason", minimum=10),
                "commitment": signed.commitment,
            },
        )
        made = objections.file_objection(
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
            kind=CaseKind.objection,
            case_id=made.id,
            uploads=signed.files,
        )

    show = partial(
        _objection_page,
        request,
        session=session,
        catalog=catalog,
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
        done="filed",
    )


# ---- one case -----------------------------------------------------------------------------------


@rights_objections_router.get("/rights/objections/{objection_id}", name="rights_objection")
def rights_objection(
    request: Request,
    objection_id: str,
    principal: CaseViewer,
    session: SessionDep,
    catalog: CatalogDep,
    done: Done = "",
) -> Response:
    o = objections.get(session, objection_id=objection_id, principal=principal.principal)
    kind = principal.kind
    # the record's values go to the enterprise and the providing department only
    view = (
        answer_view(session, catalog, o)
        if kind in (PrincipalKind.enterprise, PrincipalKind.provider)
        else None
    )
    context = {
        "o": o,
        "view": view,
        "can_withdraw": kind is PrincipalKind.enterprise and o.status in OPEN_OBJECTION,
        "can_decide": kind is PrincipalKind.operator and o.status is ObjectionStatus.submitted,
        "can_answer": kind is PrincipalKind.provider and o.status is ObjectionStatus.with_provider,
        "outcomes": list(ObjectionOutcome),
    }
    return case_page(request, session, catalog, principal, o, context, done=done)


# ---- actions on a case --------------------------------------------------------------------------


@rights_objections_router.post(
    "/rights/objections/{objection_id}/withdraw", name="rights_objection_withdraw"
)
def rights_objection_withdraw(
    request: Request,
    objection_id: str,
    principal: EnterpriseOwner,
    session: SessionDep,
    csrf: CsrfForm = "",
) -> Response:
    return act(
        request,
        session,
        csrf=csrf,
        back=f"/rights/objections/{objection_id}",
        done="withdrawn",
        run=lambda: objections.withdraw(
            session, objection_id=objection_id, principal=principal.principal
        ),
    )


@rights_objections_router.post(
    "/rights/objections/{objection_id}/accept", name="rights_objection_accept"
)
def rights_objection_accept(
    request: Request,
    objection_id: str,
    principal: OperatorPrincipal,
    session: SessionDep,
    rules: RulesDep,
    calendar: CalendarDep,
    csrf: CsrfForm = "",
    note: Note = "",
    back: Back = "",
) -> Response:
    return act(
        request,
        session,
        csrf=csrf,
        back=back_to(back, f"/rights/objections/{objection_id}"),
        done="accepted",
        run=lambda: objections.accept(
            session,
            objection_id=objection_id,
            principal=principal.principal,
            rules=rules,
            calendar=calendar,
            note=note.strip(),
        ),
    )


@rights_objections_router.post(
    "/rights/objections/{objection_id}/reject", name="rights_objection_reject"
)
def rights_objection_reject(
    request: Request,
    objection_id: str,
    principal: OperatorPrincipal,
    session: SessionDep,
    csrf: CsrfForm = "",
    note: Note = "",
    back: Back = "",
) -> Response:
    locale = locale_of(request)

    def run() -> None:
        text = check_text(locale, note, name="note", minimum=2)
        objections.reject(
            session, objection_id=objection_id, principal=principal.principal, note=text
        )

    return act(
        request,
        session,
        csrf=csrf,
        back=back_to(back, f"/rights/objections/{objection_id}"),
        done="rejected",
        run=run,
    )


@rights_objections_router.post(
    "/rights/objections/{objection_id}/answer", name="rights_objection_answer"
)
def rights_objection_answer(
    request: Request,
    objection_id: str,
    principal: ProviderOwner,
    session: SessionDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    locale = locale_of(request)
    actor = principal.principal

    def run() -> None:
        o = objections.get(session, objection_id=objection_id, principal=actor)
        outcome = text_of(form, "outcome", 16)
        corrected: dict[str, object] | None = None
        if outcome == ObjectionOutcome.corrected.value:
            corrected = corrected_values(form, answer_view(session, catalog, o))
            if not corrected:
                raise InvalidRightsRequest(
                    i18n.translate(locale, "rights.error_nothing_corrected"), field="corrected"
                )
        body = validated(
            ObjectionAnswer,
            {
                "outcome": outcome,
                "check_result": check_text(
                    locale, text_of(form, "check_result", 2000), name="check_result", minimum=2
                ),
                "corrected": corrected,
            },
        )
        objections.answer(
            session,
            catalog=catalog,
            objection_id=objection_id,
            principal=actor,
            body=body,
            origin_node=settings.node_id,
        )

    return act(
        request,
        session,
        csrf=text_of(form, "csrf", 100),
        back=back_to(text_of(form, "back", 300), f"/rights/objections/{objection_id}"),
        done="answered",
        run=run,
    )
