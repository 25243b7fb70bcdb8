from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Header, Query, Response, UploadFile, status

from service import http_cache
from service.deps import (
    ContextDep,
    CurrentUser,
    IdempotentDep,
    LockedDossier,
    NowDep,
    SessionDep,
    VisibleDossier,
    require_roles,
)
from service.domain.lifecycle import authorize
from service.domain.roles import Role
from service.dossiers import actions, presenter, queries, slip, submission
from service.models import User
from service.operations import uploads
from service.operations.idempotency import StoredAnswer
from service.schemas.common import Page, Problem, RequestDateTime
from service.schemas.dossiers import (
    ChainCheck,
    DocumentOut,
    DossierCreated,
    DossierIn,
    DossierOut,
    HistoryEntry,
    StatusName,
)

router = APIRouter(prefix="/dossiers", tags=["dossiers"])

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=200)]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified (If-None-Match)"}}
Submitter = Annotated[User, Depends(require_roles(Role.CITIZEN, Role.RECEIVER))]
"""Checked before the body is validated (the contract's order: role 403 before body 422)."""
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 409, 412, 422)}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DossierCreated, responses=ERRORS)
def submit_dossier(data: DossierIn, user: Submitter, session: SessionDep, now: NowDep,
                   idempotent: IdempotentDep, context: ContextDep) -> Response:
    """Lodge a dossier: online by a citizen, at the counter or by post by a receiver."""

    def lodge() -> StoredAnswer:
        submitted = submission.submit(session, user=user, data=data, now=now,
                                      secret_key=context.settings.secret_key)
        view = presenter.present(session, [submitted.dossier], now=now)[0]
        body = DossierCreated(**view.model_dump(), tracking_secret=submitted.tracking_secret)
        return StoredAnswer(201, body.model_dump(mode="json"), {"Location": f"/api/v1/dossiers/{view.code}",
                                                                "ETag": f'"{view.version}"'})

    return idempotent.answer("POST /dossiers", data.model_dump(mode="json"), lodge)


@router.get("", responses={**ERRORS, **NOT_MODIFIED})
def list_dossiers(
    user: CurrentUser, session: SessionDep, now: NowDep,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    procedure_code: Annotated[str | None, Query(max_length=64)] = None,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
    channel: Annotated[str | None, Query(pattern="^(online|counter|postal)$")] = None,
    overdue: bool | None = None,
    received_from: RequestDateTime | None = None,
    received_to: RequestDateTime | None = None,
    applicant_national_id: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    if_none_match: IfNoneMatch = None,
) -> Page[DossierOut]:
    """Dossiers visible to the caller, newest first, keyset-paginated. The page carries an ETag (a hash of its
    content): ``If-None-Match`` with it gives 304 while nothing on the page changed."""
    filters = queries.DossierFilter(status_, procedure_code, agency_code, overdue, received_from, received_to,
                                    applicant_national_id, channel)
    rows, next_cursor = queries.list_page(session, user=user, filters=filters, now=now, limit=limit, cursor=cursor)
    page = Page[DossierOut](items=presenter.present(session, rows, now=now), next_cursor=next_cursor)
    return http_cache.json_with_etag(page.model_dump_json().encode(), if_none_match)  # type: ignore[return-value]


@router.get("/{code}", responses={**ERRORS, **NOT_MODIFIED})
def get_dossier(dossier: VisibleDossier, session: SessionDep, now: NowDep, response: Response,
                if_none_match: IfNoneMatch = None) -> DossierOut:
    """One dossier, with ``ETag: "<version>"``; ``If-None-Match`` with the current version gives 304 (the
    representation also holds ``overdue``, which turns as the legal clock passes ``due_at`` without a new
    version: a client polling for it should re-read once the due date has passed)."""
    etag = http_cache.strong_etag(dossier.version)
    if http_cache.matches(if_none_match, etag):
        return http_cache.not_modified(etag)  # type: ignore[return-value]
    view = presenter.present(session, [dossier], now=now)[0]
    response.headers["ETag"] = etag
    return view


@router.post("/{code}/actions/{action}", response_model=DossierOut, responses=ERRORS, include_in_schema=False)
def perform_action(
    dossier: LockedDossier, action: str, user: CurrentUser, session: SessionDep, now: NowDep,
    context: ContextDep, idempotent: IdempotentDep,
    # Any JSON value: its shape is checked after visibility, role, state and version (the contract's order).
    payload: Annotated[Any, Body(description="Action fields, see ActionIn")] = None,
    if_match: IfMatch = None,
) -> Response:
    """Move the dossier through its lifecycle (see the contract's action table). Documented once per action by
    :mod:`service.routers.dossier_actions`; this route answers the same paths (and 404 for unknown actions)."""
    parsed = actions.parse_action(action)
    authorize(parsed, user.role)

    def apply() -> StoredAnswer:
        actions.act(session, user=user, dossier=dossier, action=parsed, payload=payload, if_match=if_match,
                    now=now, effects=context.effects)
        view = presenter.present(session, [dossier], now=now)[0]
        return StoredAnswer(200, view.model_dump(mode="json"), {"ETag": f'"{view.version}"'})

    return idempotent.answer(f"POST /dossiers/{dossier.code}/actions/{parsed.value}", payload or {}, apply)


@router.get("/{code}/history", responses=ERRORS)
def get_history(dossier: VisibleDossier, session: SessionDep) -> list[HistoryEntry]:
    """The control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ), oldest first."""
    return [HistoryEntry.model_validate(e, from_attributes=True) for e in slip.history(session, dossier)]


@router.get("/{code}/history/verify", responses=ERRORS)
def verify_history(dossier: VisibleDossier, session: SessionDep) -> ChainCheck:
    valid, entries = slip.verify_history(session, dossier)
    return ChainCheck(valid=valid, entries=entries)


@router.put("/{code}/documents/{document_code}", responses={**ERRORS, 413: {"model": Problem},
                                                             415: {"model": Problem}})
def upload_document(dossier: LockedDossier, document_code: str, file: Annotated[UploadFile, File()],
                    user: CurrentUser, session: SessionDep, now: NowDep, context: ContextDep) -> DocumentOut:
    """Upload (or replace) the file of one paper; the server computes its SHA-256."""
    document = uploads.attach(session, user=user, dossier=dossier, document_code=document_code,
                              filename=file.filename or document_code,
                              content_type=file.content_type or "application/octet-stream", stream=file.file,
                              max_bytes=context.settings.max_upload_bytes, now=now)
    return DocumentOut.model_validate(document, from_attributes=True)
