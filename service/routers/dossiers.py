"""``/dossiers``: lodging, lists, one dossier, lifecycle actions, the control slip, papers. Each handler parses,
calls the dossier slice (:mod:`service.dossiers`) once and answers; ``{code}`` routes load the dossier through
``VisibleDossier`` / ``LockedDossier`` (404 when the caller may not see it); a lifecycle action locks its
dossier in the handler (:func:`service.deps.lock_dossier`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Header, Query, Request, Response, UploadFile, status

from service import http_cache
from service.deps import (
    ContextDep,
    CurrentUser,
    IdempotencyKey,
    Idempotent,
    LockedDossier,
    NowDep,
    SessionDep,
    VisibleDossier,
    get_context,
    lock_dossier,
    require_roles,
)
from service.domain.lifecycle import authorize
from service.domain.roles import Role
from service.dossiers import actions, presenter, queries, slip, submission
from service.models import User
from service.operations import uploads
from service.operations.idempotency import StoredAnswer
from service.schemas.common import CursorParam, Page, Problem, RequestDateTime
from service.schemas.dossiers import (
    ChainCheck,
    DocumentOut,
    DossierCreated,
    DossierIn,
    DossierOut,
    HistoryEntry,
    PaperOut,
    StatusName,
)

router = APIRouter(prefix="/dossiers", tags=["dossiers"])

IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100)]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=200)]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified (If-None-Match)"}}
Submitter = Annotated[User, Depends(require_roles(Role.CITIZEN, Role.RECEIVER))]
"""Checked before the body is validated (the contract's order: role 403 before body 422)."""
DossierSort = Literal["-received_at", "due_at"]
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (401, 403, 404, 409, 412, 422)}


def _links(*operation_ids: str) -> dict[str, dict[str, Any]]:
    """OpenAPI links from a dossier in a response body to the operations on it (what a stateful fuzzer follows:
    lodge → act → read the history → verify it)."""
    return {operation_id: {"operationId": operation_id, "parameters": {"code": "$response.body#/code"}}
            for operation_id in operation_ids}


DOSSIER_LINKS = _links("get_dossier", "receive_dossier", "assign_dossier", "approve_dossier", "withdraw_dossier",
                       "get_history", "verify_history")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DossierCreated,
             responses={**ERRORS, 201: {"links": DOSSIER_LINKS}})
def submit_dossier(data: DossierIn, user: Submitter, session: SessionDep, request: Request,
                   idempotency_key: IdempotencyKey = None) -> Response:
    """Lodge a dossier: online by a citizen, at the counter or by post by a receiver."""
    context = get_context(request)  # not a ContextDep: each dependency FastAPI solves costs ~65–90 function calls

    def lodge() -> StoredAnswer:
        # Read in this thread and transaction (by Idempotent.answer first): a ``NowDep`` would cost a trip to a
        # worker thread of its own, and on SQLite a read transaction of its own.
        now = context.clock.now(session)
        submitted = submission.submit(session, user=user, data=data, now=now,
                                      secret_key=context.settings.secret_key)
        view = presenter.present_lodged(session, submitted.dossier, submitted.procedure, submitted.papers, now=now,
                                        due_soon_hours=context.settings.due_soon_working_hours)
        body = DossierCreated.model_construct(**dict(view), tracking_secret=submitted.tracking_secret)
        return StoredAnswer.of(201, body, {"Location": f"/api/v1/dossiers/{view.code}", "ETag": f'"{view.version}"'})

    return Idempotent(session, user, idempotency_key, context.clock).answer("POST /dossiers", data, lodge)


@router.get("", responses={**ERRORS, **NOT_MODIFIED})
def list_dossiers(
    user: CurrentUser, session: SessionDep, now: NowDep, context: ContextDep,
    status_: Annotated[StatusName | None, Query(alias="status")] = None,
    procedure_code: Annotated[str | None, Query(max_length=64)] = None,
    agency_code: Annotated[str | None, Query(max_length=35)] = None,
    channel: Annotated[str | None, Query(pattern="^(online|counter|postal)$")] = None,
    overdue: bool | None = None,
    received_from: RequestDateTime | None = None,
    received_to: RequestDateTime | None = None,
    applicant_national_id: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    q: Annotated[str | None, Query(
        max_length=100, description="A substring of the dossier code, or of the applicant's name compared "
                                    "without diacritics and case (đ = d), or an exact 12-digit national id")] = None,
    due_after: Annotated[RequestDateTime | None, Query(description="due_at at or after this instant")] = None,
    due_before: Annotated[RequestDateTime | None, Query(description="due_at before this instant")] = None,
    sort: Annotated[DossierSort, Query(description="-received_at: newest received first (not yet received "
                                                   "last); due_at: soonest due first (no due date last)")]
    = "-received_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorParam = None,
    if_none_match: IfNoneMatch = None,
) -> Page[DossierOut]:
    """Dossiers visible to the caller (visibility is part of the query), keyset-paginated. The page carries an
    ETag (a hash of its content): ``If-None-Match`` with it gives 304 while nothing on the page changed."""
    filters = queries.DossierFilter(status_, procedure_code, agency_code, overdue, received_from, received_to,
                                    applicant_national_id, channel, q=q, due_before=due_before,
                                    due_after=due_after, sort=sort)
    rows, next_cursor = queries.list_page(session, user=user, filters=filters, now=now, limit=limit, cursor=cursor)
    page = Page[DossierOut](items=presenter.present(session, rows, now=now,
                                                    due_soon_hours=context.settings.due_soon_working_hours),
                            next_cursor=next_cursor)
    return http_cache.json_with_etag(page.model_dump_json().encode(), if_none_match)  # type: ignore[return-value]


@router.get("/{code}", responses={**ERRORS, **NOT_MODIFIED, 200: {"links": DOSSIER_LINKS}}, operation_id="get_dossier")
def get_dossier(dossier: VisibleDossier, session: SessionDep, now: NowDep, response: Response, context: ContextDep,
                if_none_match: IfNoneMatch = None) -> DossierOut:
    """One dossier, with ``ETag: "<version>"``; ``If-None-Match`` with the current version gives 304 (the
    representation also holds ``overdue``, ``due_soon`` and ``working_hours_left``, which change as the legal
    clock runs without a new version: a client polling for them should re-read without the header)."""
    etag = http_cache.strong_etag(dossier.version)
    if http_cache.matches(if_none_match, etag):
        return http_cache.not_modified(etag)  # type: ignore[return-value]
    view = presenter.present(session, [dossier], now=now, due_soon_hours=context.settings.due_soon_working_hours)[0]
    response.headers["ETag"] = etag
    return view


@router.post("/{code}/actions/{action}", response_model=DossierOut, responses=ERRORS, include_in_schema=False)
def perform_action(
    code: str, action: str, user: CurrentUser, session: SessionDep, request: Request,
    # Any JSON value: its shape is checked after visibility, role, state and version (the contract's order).
    payload: Annotated[Any, Body(description="Action fields, see ActionIn")] = None,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Move the dossier through its lifecycle (see the contract's action table). Documented once per action by
    :mod:`service.routers.dossier_actions`; this route answers the same paths (and 404 for unknown actions).
    The dossier is locked here, not by a ``LockedDossier`` dependency: one trip to a worker thread, not two."""
    context = get_context(request)  # not a ContextDep: see submit_dossier
    dossier = lock_dossier(session, user, code, context.clock)
    parsed = actions.parse_action(action)
    authorize(parsed, user.role)

    def apply() -> StoredAnswer:
        # The legal instant lock_dossier read in this transaction (no NowDep: a dependency less to resolve).
        now = context.clock.now(session)
        actions.act(session, user=user, dossier=dossier, action=parsed, payload=payload, if_match=if_match,
                    now=now, effects=context.effects)
        view = presenter.present(session, [dossier], now=now,
                                 due_soon_hours=context.settings.due_soon_working_hours)[0]
        return StoredAnswer.of(200, view, {"ETag": f'"{view.version}"'})

    return Idempotent(session, user, idempotency_key, context.clock).answer(
        f"POST /dossiers/{dossier.code}/actions/{parsed.value}", payload or {}, apply)


@router.get("/{code}/history", responses=ERRORS, operation_id="get_history")
def get_history(dossier: VisibleDossier, session: SessionDep) -> list[HistoryEntry]:
    """The control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ), oldest first."""
    return [HistoryEntry.model_validate(e, from_attributes=True) for e in slip.history(session, dossier)]


@router.get("/{code}/history/verify", responses=ERRORS, operation_id="verify_history")
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


@router.get("/{code}/documents", responses=ERRORS, summary="List the dossier's papers and their uploaded files")
def list_documents(dossier: VisibleDossier, session: SessionDep) -> list[PaperOut]:
    """The papers of the dossier's procedure version, each with the file uploaded for it (null fields when
    none); the same visibility as the dossier."""
    return [PaperOut(code=p.code, name=p.name, mandatory=p.mandatory,
                     filename=p.document.filename if p.document else None,
                     content_type=p.document.content_type if p.document else None,
                     size=p.document.size_bytes if p.document else None,
                     sha256=p.document.sha256 if p.document else None,
                     uploaded_at=p.document.uploaded_at if p.document else None)
            for p in uploads.papers(session, dossier)]


@router.get("/{code}/documents/{document_code}", response_class=Response, responses={
    200: {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in uploads.ALLOWED_TYPES},
          "description": "The uploaded file, with its content type and file name (RFC 6266)"},
    **ERRORS}, summary="Download the uploaded file of one paper")
def download_document(dossier: VisibleDossier, document_code: str, session: SessionDep) -> Response:
    """The file uploaded for one paper; 404 ``DOCUMENT_NOT_FOUND`` when the procedure has no such paper,
    ``DOCUMENT_FILE_NOT_FOUND`` when nothing was uploaded for it."""
    document, blob = uploads.uploaded_file(session, dossier, document_code)
    return Response(blob.content, media_type=document.content_type or blob.content_type, headers={
        "Content-Disposition": uploads.content_disposition(document.filename or document_code),
        "ETag": f'"{blob.sha256}"', "X-Content-Type-Options": "nosniff"})
