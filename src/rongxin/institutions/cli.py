"""``rongxin institutions``: onboarding of access institutions (M4, Z1) from the console.

Console actors are named explicitly (``--assessor``, ``--approver``, ``--actor``): the four-eyes
rule compares these names, so two people sign an approval.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from rongxin.access.schemas import Purpose
from rongxin.cli_support import cli_session, emit_json, settings_or_exit
from rongxin.db.base import utcnow
from rongxin.errors import InvalidInput
from rongxin.institutions import assessments, quota, service
from rongxin.institutions.controls import load_controls
from rongxin.institutions.schemas import (
    DEFAULT_DAILY_QUOTA,
    Approval,
    InstitutionApply,
    InstitutionKind,
    InstitutionStatus,
    ScoresInput,
)
from rongxin.logging import configure_logging

app = typer.Typer(
    help="接入机构 — onboarding of access institutions: apply, assess, approve, suspend.",
    no_args_is_help=True,
)


@app.callback()
def _logging() -> None:
    """Logs go to stderr, so that stdout carries only the JSON answers."""
    settings = settings_or_exit()
    configure_logging(level=settings.log_level, json=settings.log_json)


CodeArg = Annotated[str, typer.Argument(help="The institution's code.")]
ActorOpt = Annotated[str, typer.Option(help="Who acts (a person's name or staff id).")]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded with the status change).")]
M = TypeVar("M", bound=BaseModel)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _console_actor(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name who acts, e.g. --actor 'operator:zhang-wei'")
    return f"console:{name}"


def _valid(model: type[M], data: Any, what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"{what} is not valid: {problems}") from None


@app.command()
def apply(
    code: Annotated[str, typer.Option(help="A short code for the institution, e.g. bank-fz.")],
    name: Annotated[str, typer.Option(help="Registered name.")],
    uscc: Annotated[str, typer.Option(help="The institution's own USCC.")],
    kind: Annotated[InstitutionKind, typer.Option(help="Kind of licensed institution.")],
    license_number: Annotated[str, typer.Option(help="Financial licence number.")],
    contact_department: Annotated[str, typer.Option(help="Contact department (no person).")],
    contact_phone: Annotated[str, typer.Option(help="The department's phone.")],
    contact_email: Annotated[str, typer.Option(help="A functional mailbox.")],
    purpose: Annotated[
        list[Purpose], typer.Option(help="Requested purpose (repeat): pre_loan, in_loan …")
    ],
    region: Annotated[list[str], typer.Option(help="GB/T 2260 code served (repeat).")],
    address: Annotated[str, typer.Option(help="Registered address.")] = "",
    actor: ActorOpt = "operator",
) -> None:
    """File an application (or re-open a rejected or withdrawn institution)."""
    spec = _valid(
        InstitutionApply,
        {
            "code": code,
            "name": name,
            "uscc": uscc,
            "kind": kind,
            "license_number": license_number,
            "contact_department": contact_department,
            "contact_phone": contact_phone,
            "contact_email": contact_email,
            "address": address,
            "requested_purposes": purpose,
            "regions": region,
        },
        "application",
    )
    with cli_session() as session:
        created = service.apply(session, spec=spec, actor=_console_actor(actor), allow_reapply=True)
    emit_json(created.model_dump(mode="json"))


def _scores_file(path: Path) -> ScoresInput:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: cannot read the scores file: {exc}") from exc
    if isinstance(data, dict) and "scores" not in data:  # {control: {score, evidence_ref}}
        data = {
            "scores": [
                {"control_code": code, **(v if isinstance(v, dict) else {"score": v})}
                for code, v in data.items()
            ]
        }
    return _valid(ScoresInput, data, str(path))


@app.command()
def assess(
    code: CodeArg,
    assessor: Annotated[str, typer.Option(help="Who assesses (a person's name or staff id).")],
    scores: Annotated[
        Path | None,
        typer.Option(
            help="YAML/JSON scores: {control: {score: 0-100, evidence_ref: …, note: …}}.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Start an assessment (if none is in progress) and record scores from a file."""
    settings = settings_or_exit()
    controls = load_controls(settings.security_controls_path)
    who = _console_actor(assessor)
    with cli_session(settings) as session:
        current = assessments.current_assessment(session, code=code)
        if current is None:
            current = assessments.start_assessment(
                session, code=code, controls=controls, assessor=who
            )
        if scores is not None:
            current = assessments.record_scores(
                session,
                assessment_id=current.id,
                scores=_scores_file(scores).scores,
                actor=who,
            )
    emit_json(current.model_dump(mode="json"))


@app.command()
def approve(
    assessment_id: Annotated[str, typer.Argument(help="The assessment id.")],
    approver: Annotated[str, typer.Option(help="Who approves: not the assessor (four-eyes).")],
    purpose: Annotated[
        list[Purpose], typer.Option(help="Allowed purpose (repeat): pre_loan, in_loan, post_loan.")
    ],
    daily_quota: Annotated[
        int, typer.Option(min=1, help="Report/record reads per China-time day.")
    ] = DEFAULT_DAILY_QUOTA,
) -> None:
    """Approve a passing assessment; the first approval prints the API key token once."""
    approval = _valid(
        Approval, {"allowed_purposes": purpose, "daily_quota": daily_quota}, "approval"
    )
    with cli_session() as session:
        result = assessments.approve(
            session,
            assessment_id=assessment_id,
            approver=_console_actor(approver),
            approval=approval,
        )
    emit_json(result.model_dump(mode="json"))


@app.command()
def reject(code: CodeArg, reason: ReasonOpt, actor: ActorOpt = "operator") -> None:
    """Reject the pending application (or the reassessment in progress)."""
    with cli_session() as session:
        done = service.reject(session, code=code, actor=_console_actor(actor), reason=reason)
    emit_json(done.model_dump(mode="json"))


@app.command()
def suspend(code: CodeArg, reason: ReasonOpt, actor: ActorOpt = "operator") -> None:
    """Suspend at once: the institution's next request is refused."""
    with cli_session() as session:
        done = service.suspend(session, code=code, actor=_console_actor(actor), reason=reason)
    emit_json(done.model_dump(mode="json"))


@app.command()
def reinstate(code: CodeArg, reason: ReasonOpt, actor: ActorOpt = "operator") -> None:
    """Re-activate a suspended institution whose assessment is still valid."""
    with cli_session() as session:
        done = service.reinstate(session, code=code, actor=_console_actor(actor), reason=reason)
    emit_json(done.model_dump(mode="json"))


@app.command()
def withdraw(code: CodeArg, reason: ReasonOpt, actor: ActorOpt = "operator") -> None:
    """The institution leaves the platform; its API keys are revoked."""
    with cli_session() as session:
        done = service.withdraw(session, code=code, actor=_console_actor(actor), reason=reason)
    emit_json(done.model_dump(mode="json"))


@app.command("list")
def list_(
    status: Annotated[InstitutionStatus | None, typer.Option(help="Only this status.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List institutions with status, purposes, quota and assessment expiry."""
    with cli_session() as session:
        page = service.list_institutions(session, status=status, limit=200)
    if as_json:
        emit_json([i.model_dump(mode="json") for i in page.items])
        return
    table = Table(title=f"institutions — {page.total}")
    for col in ("code", "name", "kind", "status", "purposes", "quota/day", "valid until"):
        table.add_column(col)
    for i in page.items:
        table.add_row(
            i.code,
            i.name,
            i.kind.value,
            i.status.value,
            ",".join(p.value for p in i.allowed_purposes) or "—",
            str(i.daily_quota) if i.daily_quota else "—",
            i.assessment_valid_until.date().isoformat() if i.assessment_valid_until else "—",
        )
    Console().print(table)


@app.command()
def show(code: CodeArg) -> None:
    """One institution with its status history and assessments (JSON)."""
    with cli_session() as session:
        body = {
            "institution": service.get_institution(session, code=code).model_dump(mode="json"),
            "events": [e.model_dump(mode="json") for e in service.list_events(session, code=code)],
            "assessments": [
                a.model_dump(mode="json", exclude={"scores"})
                for a in assessments.list_assessments(session, code=code)
            ],
            "quota": quota.quota_usage(session, institution_code=code).model_dump(mode="json"),
        }
    emit_json(body)


@app.command()
def due(
    at: Annotated[
        datetime | None, typer.Option(help="As of (ISO 8601 with zone). Default: now.")
    ] = None,
) -> None:
    """Institutions whose reassessment is due (expired ones included)."""
    moment = service.ensure_aware(at) if at else utcnow()
    with cli_session() as session:
        rows = service.due_for_reassessment(session, at=moment)
    emit_json([r.model_dump(mode="json") for r in rows])


@app.command("enforce-expiry")
def enforce_expiry(
    at: Annotated[
        datetime | None, typer.Option(help="As of (ISO 8601 with zone). Default: now.")
    ] = None,
) -> None:
    """Suspend every active institution whose assessment expired (run daily from cron)."""
    moment = service.ensure_aware(at) if at else utcnow()
    with cli_session() as session:
        done = service.enforce_expiry(session, at=moment)
    emit_json({"suspended": [i.code for i in done], "at": moment.isoformat()})


@app.command()
def controls(as_json: JsonOpt = False) -> None:
    """The security controls in force: groups, weights, mandatory controls, threshold."""
    control_set = load_controls(settings_or_exit().security_controls_path)
    if as_json:
        emit_json(control_set.model_dump(mode="json"))
        return
    table = Table(
        title=f"security controls {control_set.version} — pass ≥ {control_set.pass_threshold:g}, "
        f"valid {control_set.validity_days} days"
    )
    for col in ("group", "control", "name", "weight", "mandatory"):
        table.add_column(col)
    for group in control_set.groups:
        for c in group.controls:
            mandatory = f"≥ {control_set.pass_score(c)}" if c.mandatory else ""
            table.add_row(group.name, c.code, c.name, str(c.weight), mandatory)
    Console().print(table)
