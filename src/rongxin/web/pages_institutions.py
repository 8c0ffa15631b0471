"""Operator pages for onboarding access institutions (M4, Z1).

- ``/institutions``: institutions by status (HTMX swaps the list when a status is chosen);
- ``/institutions/new``: an application filed by the operator on an institution's behalf;
- ``/institutions/{code}``: one institution — facts, grants, status history, assessments and,
  while an assessment is in progress, the control checklist to score with evidence, and the
  approve / reject / suspend / reinstate forms.

Operators and regulators see the pages; only operators act. Every form carries the session's
CSRF token (:func:`rongxin.web.auth.csrf_ok`). An approval that activates an institution shows
its API key token on the answer page, once (``Cache-Control: no-store``). Pages call services,
never the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from rongxin.access.schemas import FINANCING_PURPOSES, PURPOSE_NAMES
from rongxin.deps import SessionDep, SettingsDep
from rongxin.errors import InvalidInput, RongxinError
from rongxin.institutions import assessments, quota, service
from rongxin.institutions.controls import ControlSet, load_controls
from rongxin.institutions.schemas import (
    DEFAULT_DAILY_QUOTA,
    Approval,
    AssessmentRead,
    InstitutionApply,
    InstitutionKind,
    InstitutionRead,
    InstitutionStatus,
    ScoreInput,
)
from rongxin.web import i18n
from rongxin.web.auth import (
    CsrfForm,
    OperatorPrincipal,
    StaffPrincipal,
    WebPrincipal,
    csrf_token,
    require_csrf,
    staff_actor,
    staff_page,
)
from rongxin.web.pages import Pager, PageRoute
from rongxin.web.rendering import locale_of, no_store, render, render_list

PAGE_SIZE: Final = 20
SCORE_CHOICES: Final = (100, 50, 0)
PURPOSES: Final = [p for p in PURPOSE_NAMES if p in FINANCING_PURPOSES]

institutions_router = APIRouter(include_in_schema=False, route_class=PageRoute)

Reason = Annotated[str, Form(max_length=1000)]


def _check_csrf(request: Request, submitted: str) -> None:
    require_csrf(request, submitted, "institutions.error_csrf")


def _purpose_names(locale: str) -> dict[str, str]:
    index = 1 if locale == "en" else 0
    return {p.value: PURPOSE_NAMES[p][index] for p in PURPOSE_NAMES}


# ---- list ---------------------------------------------------------------------------------------


@institutions_router.get("/institutions", name="institutions")
def institution_list(
    request: Request,
    principal: StaffPrincipal,
    session: SessionDep,
    status: InstitutionStatus | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    page = service.list_institutions(session, status=status, limit=PAGE_SIZE, offset=offset)
    context = {
        "institutions": page.items,
        "pager": Pager.of(request, page),
        "status": status.value if status else "",
        "counts": {s.value: n for s, n in service.status_counts(session).items()},
        "due": service.due_for_reassessment(session),
        "principal": principal,
    }
    return render_list(
        request, page="institutions/index.html", fragment="institutions/_list.html", context=context
    )


# ---- application on behalf ----------------------------------------------------------------------


def _application_form(
    request: Request,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return no_store(
        render(
            request,
            "institutions/new.html",
            {
                "values": values or {},
                "errors": errors or {},
                "kinds": [k.value for k in InstitutionKind],
                "purposes": PURPOSES,
                "purpose_names": _purpose_names(locale_of(request)),
                "csrf_token": csrf_token(request),
            },
            status_code=status_code,
        )
    )


@institutions_router.get("/institutions/new", name="institution_new")
def institution_new(request: Request, _operator: OperatorPrincipal) -> Response:
    return _application_form(request)


@institutions_router.post("/institutions/new", name="institution_create")
def institution_create(
    request: Request,
    operator: OperatorPrincipal,
    session: SessionDep,
    csrf: CsrfForm = "",
    code: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    uscc: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(max_length=24)] = "",
    license_number: Annotated[str, Form(max_length=64)] = "",
    contact_department: Annotated[str, Form(max_length=100)] = "",
    contact_phone: Annotated[str, Form(max_length=32)] = "",
    contact_email: Annotated[str, Form(max_length=200)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    purpose: Annotated[list[str] | None, Form()] = None,
    regions: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _check_csrf(request, csrf)
    values: dict[str, Any] = {
        "code": code,
        "name": name,
        "uscc": uscc,
        "kind": kind,
        "license_number": license_number,
        "contact_department": contact_department,
        "contact_phone": contact_phone,
        "contact_email": contact_email,
        "address": address,
        "requested_purposes": purpose or [],
        "regions": [r for r in regions.replace(",", " ").split() if r],
    }
    try:
        spec = InstitutionApply.model_validate(values)
    except ValidationError as exc:
        errors = {str(e["loc"][0]) if e["loc"] else "form": e["msg"] for e in exc.errors()}
        form = {**values, "regions": regions}
        return _application_form(request, values=form, errors=errors, status_code=422)
    try:
        service.apply(session, spec=spec, actor=staff_actor(operator), allow_reapply=True)
    except RongxinError as exc:
        field = str(exc.details.get("field", "form"))
        form = {**values, "regions": regions}
        return _application_form(
            request, values=form, errors={field: exc.message}, status_code=exc.status
        )
    return RedirectResponse(f"/institutions/{spec.code}", status_code=303)


# ---- one institution ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checklist:
    """The assessment in progress with its controls and the scores so far."""

    assessment: AssessmentRead
    controls: ControlSet
    scores: dict[str, Any]


def _checklist(session: Session, current: AssessmentRead | None) -> Checklist | None:
    if current is None:
        return None
    controls = assessments.assessment_controls(session, assessment_id=current.id)
    return Checklist(current, controls, {s.control_code: s for s in current.scores})


def _detail(
    request: Request,
    session: Session,
    principal: WebPrincipal,
    controls_in_force: ControlSet,
    code: str,
    *,
    error: str | None = None,
    problems: list[str] | None = None,
    notice: str | None = None,
    issued_token: str | None = None,
    status_code: int = 200,
) -> Response:
    institution: InstitutionRead = service.get_institution(session, code=code)
    current = assessments.current_assessment(session, code=code)
    context = {
        "institution": institution,
        "events": service.list_events(session, code=code),
        "history": [
            a
            for a in assessments.list_assessments(session, code=code)
            if current is None or a.id != current.id
        ],
        "checklist": _checklist(session, current),
        "quota": quota.quota_usage(session, institution_code=code),
        "controls_in_force": controls_in_force,
        "purposes": PURPOSES,
        "purpose_names": _purpose_names(locale_of(request)),
        "score_choices": SCORE_CHOICES,
        "default_quota": institution.daily_quota or DEFAULT_DAILY_QUOTA,
        "error": error,
        "problems": problems or [],
        "notice": notice,
        "issued_token": issued_token,
    }
    return staff_page(
        request, "institutions/detail.html", principal, context, status_code=status_code
    )


def _controls(settings: SettingsDep) -> ControlSet:
    return load_controls(settings.security_controls_path)


ControlsWeb = Annotated[ControlSet, Depends(_controls)]


@institutions_router.get("/institutions/{code}", name="institution_detail")
def institution_detail(
    request: Request,
    code: str,
    principal: StaffPrincipal,
    session: SessionDep,
    controls: ControlsWeb,
    done: Annotated[str, Query(max_length=32, pattern=r"^[a-z_]*$")] = "",
) -> Response:
    notice = i18n.translate(locale_of(request), f"institutions.done_{done}") if done else None
    return _detail(request, session, principal, controls, code, notice=notice)


def _after(code: str, done: str) -> Response:
    return RedirectResponse(f"/institutions/{code}?done={done}", status_code=303)


def _refused(
    request: Request,
    session: Session,
    principal: WebPrincipal,
    controls: ControlSet,
    code: str,
    exc: RongxinError,
) -> Response:
    """The detail page again, with the refusal explained next to the forms."""
    problems = exc.details.get("problems")
    return _detail(
        request,
        session,
        principal,
        controls,
        code,
        error=exc.message,
        problems=[str(p) for p in problems] if isinstance(problems, list) else None,
        status_code=exc.status,
    )


@institutions_router.post("/institutions/{code}/assessments", name="institution_assess")
def institution_assess(
    request: Request,
    code: str,
    operator: OperatorPrincipal,
    session: SessionDep,
    controls: ControlsWeb,
    csrf: CsrfForm = "",
) -> Response:
    _check_csrf(request, csrf)
    try:
        assessments.start_assessment(
            session, code=code, controls=controls, assessor=staff_actor(operator)
        )
    except RongxinError as exc:
        return _refused(request, session, operator, controls, code, exc)
    return _after(code, "started")


@institutions_router.post(
    "/institutions/{code}/assessments/{assessment_id}/scores", name="institution_scores"
)
def institution_scores(
    request: Request,
    code: str,
    assessment_id: str,
    operator: OperatorPrincipal,
    session: SessionDep,
    controls: ControlsWeb,
    csrf: CsrfForm = "",
    control: Annotated[list[str] | None, Form()] = None,
    score: Annotated[list[str] | None, Form()] = None,
    evidence: Annotated[list[str] | None, Form()] = None,
    note: Annotated[list[str] | None, Form()] = None,
) -> Response:
    _check_csrf(request, csrf)
    locale = locale_of(request)
    codes, levels = control or [], score or []
    evidences, notes = evidence or [], note or []
    if not (len(codes) == len(levels) == len(evidences) == len(notes)):
        raise InvalidInput(i18n.translate(locale, "institutions.error_form"))
    entries: list[ScoreInput] = []
    problems: list[str] = []
    for c, level, ev, nt in zip(codes, levels, evidences, notes, strict=True):
        if not level.strip():
            continue  # not scored yet
        try:
            entries.append(ScoreInput(control_code=c, score=int(level), evidence_ref=ev, note=nt))
        except (ValueError, ValidationError):
            problems.append(i18n.translate(locale, "institutions.error_score", control=c))
    if problems or not entries:
        message = i18n.translate(
            locale, "institutions.error_scores" if problems else "institutions.error_no_scores"
        )
        exc = InvalidInput(message, problems=problems)
        return _refused(request, session, operator, controls, code, exc)
    try:
        assessments.record_scores(
            session,
            assessment_id=assessment_id,
            institution_code=code,
            scores=entries,
            actor=staff_actor(operator),
        )
    except RongxinError as exc:
        return _refused(request, session, operator, controls, code, exc)
    return _after(code, "scored")


@institutions_router.post(
    "/institutions/{code}/assessments/{assessment_id}/approve", name="institution_approve"
)
def institution_approve(
    request: Request,
    code: str,
    assessment_id: str,
    operator: OperatorPrincipal,
    session: SessionDep,
    controls: ControlsWeb,
    csrf: CsrfForm = "",
    purpose: Annotated[list[str] | None, Form()] = None,
    daily_quota: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    _check_csrf(request, csrf)
    locale = locale_of(request)
    try:
        fields: dict[str, Any] = {"allowed_purposes": purpose or []}
        if daily_quota.strip():
            fields["daily_quota"] = daily_quota.strip()
        approval = Approval.model_validate(fields)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        error = InvalidInput(
            i18n.translate(locale, "institutions.error_approval"), problems=problems
        )
        return _refused(request, session, operator, controls, code, error)
    try:
        result = assessments.approve(
            session,
            assessment_id=assessment_id,
            institution_code=code,
            approver=staff_actor(operator),
            approval=approval,
        )
    except RongxinError as exc:
        return _refused(request, session, operator, controls, code, exc)
    token = result.api_key.token if result.api_key else None
    return _detail(
        request,
        session,
        operator,
        controls,
        code,
        notice=i18n.translate(locale, "institutions.done_approved"),
        issued_token=token,
    )


def _status_change(action: str) -> Callable[..., Response]:
    """The route by which an operator posts ``action`` (reject, suspend, reinstate), with its
    reason, on one institution."""
    change = {"reject": service.reject, "suspend": service.suspend, "reinstate": service.reinstate}

    def post_change(
        request: Request,
        code: str,
        operator: OperatorPrincipal,
        session: SessionDep,
        controls: ControlsWeb,
        csrf: CsrfForm = "",
        reason: Reason = "",
    ) -> Response:
        _check_csrf(request, csrf)
        if len(reason.strip()) < 2:
            exc = InvalidInput(i18n.translate(locale_of(request), "institutions.error_reason"))
            return _refused(request, session, operator, controls, code, exc)
        try:
            change[action](session, code=code, actor=staff_actor(operator), reason=reason.strip())
        except RongxinError as exc:
            return _refused(request, session, operator, controls, code, exc)
        return _after(code, action)

    return post_change


for _action in ("reject", "suspend", "reinstate"):
    institutions_router.add_api_route(
        f"/institutions/{{code}}/{_action}",
        _status_change(_action),
        methods=["POST"],
        name=f"institution_{_action}",
    )
