"""What the rights forms that sign the credit commitment share (objection, repair, self-report).

The commitment text in force is shown cut into blocks (:func:`commitment_blocks`) and the form
echoes its version and sha256; :func:`form_page` renders a form with its error (the field named
in the page's words), and :func:`file_signed` files the case in a savepoint: a refusal shows
the form again with what was typed, nothing written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, File, Form, Request, Response, UploadFile
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from rongxin.catalog.schemas import Catalog, Item
from rongxin.errors import RongxinError
from rongxin.records.schemas import RecordView
from rongxin.rights import objections
from rongxin.rights import service as rights_service
from rongxin.rights.errors import InvalidRightsRequest
from rongxin.rights.schemas import CommitmentText
from rongxin.web import i18n
from rongxin.web.auth import CsrfForm, csrf_ok, csrf_token
from rongxin.web.pages_rights import redirect_done, view_names
from rongxin.web.rendering import locale_of, no_store, render

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: dict[str, Any]) -> M:
    """``model`` from ``data``; a refusal names the first wrong field (a domain error)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "form"
        raise InvalidRightsRequest(f"{where}: {err['msg']}", field=where) from None


def field_of(exc: RongxinError) -> str | None:
    found = exc.details.get("field")
    return str(found).split(".", 1)[0] if found else None


def error_label(locale: str, name: str | None, item: Item | None) -> str:
    """What a form error's field is called on the page."""
    if not name:
        return ""
    key = f"rights.field_{name}"
    text = i18n.translate(locale, key)
    if text != key:
        return text
    found = next((f for f in item.fields if f.name == name), None) if item else None
    return i18n.localized(found, "label", locale) if found else name


def check_text(locale: str, value: str, *, name: str, minimum: int) -> str:
    text = value.strip()
    if len(text) < minimum:
        raise InvalidRightsRequest(
            i18n.translate(locale, f"rights.error_{name}_short", count=minimum), field=name
        )
    return text


# ---- the commitment -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One block of the commitment text: a heading, a paragraph, or a (numbered) list."""

    kind: str  # "h", "p", "ol" or "ul"
    lines: tuple[str, ...]
    lang: str


_NUMBERED = re.compile(r"^\d+[.、]\s*")


def commitment_blocks(text: str) -> list[Block]:
    """The commitment's text cut into blocks; the part after the first heading without CJK
    characters is English (``lang="en"``)."""
    blocks: list[Block] = []
    lang = "zh-CN"
    for chunk in text.split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):
            heading = lines[0].lstrip("#").strip()
            if not any("\u4e00" <= ch <= "\u9fff" for ch in heading):
                lang = "en"
            blocks.append(Block("h", (heading,), lang))
        elif all(_NUMBERED.match(line) for line in lines):
            blocks.append(Block("ol", tuple(_NUMBERED.sub("", line) for line in lines), lang))
        elif all(line.startswith("- ") for line in lines):
            blocks.append(Block("ul", tuple(line[2:] for line in lines), lang))
        else:
            blocks.append(Block("p", (" ".join(lines),), lang))
    return blocks


def _commitment(texts: rights_service.CommitmentTexts) -> dict[str, Any]:
    current: CommitmentText = texts.in_force(objections.china_today())
    return {"commitment": current, "commitment_blocks": commitment_blocks(current.text)}


def echo(version: str, sha256: str) -> dict[str, str]:
    """The commitment version and sha256 the form echoed, as the create schemas take them."""
    return {"version": version.strip(), "sha256": sha256.strip().lower()}


def _check_commitment(locale: str, committed: str) -> None:
    if committed != "yes":
        raise InvalidRightsRequest(
            i18n.translate(locale, "rights.error_not_committed"), field="committed"
        )


# ---- the form and its filing --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseForm:
    """What the enterprise typed (kept to fill the form again after an error)."""

    item: str
    key: str
    text: str = ""
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SignedCaseForm:
    """What a case form that signs the commitment posts besides its text: the record (item and
    natural key), the CSRF token, the commitment echoed and ticked, and the evidence files."""

    item: str
    key: str
    csrf: str
    commitment: dict[str, str]  # as :func:`echo` gives it
    committed: str
    files: list[UploadFile]

    def case_form(self, text: str, fields: tuple[str, ...] = ()) -> CaseForm:
        """What was typed, to fill the form again after an error."""
        return CaseForm(item=self.item, key=self.key, text=text, fields=fields)


def _signed_case_form(
    item: Annotated[str, Form(max_length=64)],
    key: Annotated[str, Form(max_length=512)],
    csrf: CsrfForm = "",
    commitment_version: Annotated[str, Form(max_length=32)] = "",
    commitment_sha256: Annotated[str, Form(max_length=64)] = "",
    committed: Annotated[str, Form(max_length=8)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> SignedCaseForm:
    commitment = echo(commitment_version, commitment_sha256)
    return SignedCaseForm(item, key, csrf, commitment, committed, files or [])


SignedCaseFormDep = Annotated[SignedCaseForm, Depends(_signed_case_form)]


def record_of(session: Session, catalog: Catalog, uscc: str, form: CaseForm) -> RecordView:
    item = objections.subject_item(catalog, form.item)
    return objections.current_record(session, uscc=uscc, item=item, record_key=form.key)


def form_page(
    request: Request,
    template: str,
    *,
    context: dict[str, Any],
    catalog: Catalog,
    texts: rights_service.CommitmentTexts,
    error: str | None = None,
    error_field: str | None = None,
    status_code: int = 200,
) -> Response:
    locale = locale_of(request)
    page = {
        **view_names(catalog, locale),
        **_commitment(texts),
        **context,
        "csrf_token": csrf_token(request),
        "error": error,
        "error_field": error_field,
        "error_label": error_label(locale, error_field, context.get("item")),
    }
    return no_store(render(request, template, page, status_code=status_code))


def file_signed(
    request: Request,
    session: Session,
    *,
    csrf: str,
    committed: str,
    show: Callable[..., Response],
    file: Callable[[], str],
    done: str,
    anchor: str = "",
) -> Response:
    """File what a form that signs the commitment posted: check the CSRF token and the
    commitment box, run ``file`` (which returns where to go next) in a savepoint and go there;
    a refusal calls ``show`` with the error to show the form again (nothing written)."""
    locale = locale_of(request)
    if not csrf_ok(request, csrf):
        return show(error=i18n.translate(locale, "rights.error_csrf"), status_code=403)
    try:
        with session.begin_nested():
            _check_commitment(locale, committed)
            target = file()
    except RongxinError as exc:
        return show(error=exc.message, error_field=field_of(exc), status_code=exc.status)
    return redirect_done(target, done, anchor)
