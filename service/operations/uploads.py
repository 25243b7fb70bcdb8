"""Papers uploaded to a dossier: bound to the procedure's document codes, size-limited, type-checked, hashed by
the server, stored content-addressed in the ``blob`` table (same transaction as the dossier row)."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from urllib.parse import quote

from sqlmodel import Session, col, select

from service.domain.lifecycle import DossierState
from service.dossiers.persist import Change, SessionWriter, persist, state_of
from service.errors import NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from service.models import Blob, Dossier, DossierDocument, Procedure, User

ALLOWED_TYPES = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
UPLOAD_STATUSES = {"submitted", "received", "processing", "awaiting_supplement"}
CHUNK = 64 * 1024


def store_blob(session: Session, content: bytes, content_type: str, *, now: datetime) -> str:
    digest = hashlib.sha256(content).hexdigest()
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, content_type=content_type, size_bytes=len(content), content=content,
                         created_at=now))
        session.flush()
    return digest


def read_limited(stream: BinaryIO, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).",
                                  code="FILE_TOO_LARGE")
        chunks.append(chunk)
    return b"".join(chunks)


def attach(
    session: Session, *, user: User, dossier: Dossier, document_code: str, filename: str, content_type: str,
    stream: BinaryIO, max_bytes: int, now: datetime,
) -> DossierDocument:
    from service.errors import Conflict

    if dossier.status not in UPLOAD_STATUSES:
        raise Conflict("Không thể bổ sung tệp khi hồ sơ đã kết thúc xử lý.", code="INVALID_TRANSITION")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in ALLOWED_TYPES:
        raise UnsupportedMediaType("Chỉ nhận tệp PDF, JPEG hoặc PNG.", code="UNSUPPORTED_FILE_TYPE")
    procedure = session.get(Procedure, dossier.procedure_id)
    names = {d["code"]: d["name"] for d in procedure.required_documents} if procedure else {}
    if document_code not in names:
        raise Unprocessable(f"Thành phần hồ sơ {document_code} không thuộc thủ tục này.", code="UNKNOWN_DOCUMENT")
    content = read_limited(stream, max_bytes)
    if not content.startswith(ALLOWED_TYPES[media_type]):
        raise UnsupportedMediaType("Nội dung tệp không khớp với kiểu tệp khai báo.", code="FILE_TYPE_MISMATCH")
    digest = store_blob(session, content, media_type, now=now)
    document = session.exec(select(DossierDocument).where(DossierDocument.dossier_id == dossier.id,
                                                          DossierDocument.code == document_code)).first()
    if document is None:
        document = DossierDocument(dossier_id=dossier.id, code=document_code, name=names[document_code],  # type: ignore[arg-type]
                                   created_at=now)
    document.filename = filename[:255] or document_code
    document.content_type = media_type
    document.size_bytes = len(content)
    document.sha256 = digest
    document.storage_key = digest
    document.uploaded_at = now
    session.add(document)
    persist(SessionWriter(session), dossier, upload_change(
        actor=user.username, actor_role=user.role, state=state_of(dossier), document_code=document_code,
        filename=document.filename or document_code, sha256=digest, size_bytes=len(content), now=now))
    return document


def upload_change(*, actor: str, actor_role: str, state: DossierState, document_code: str, filename: str,
                  sha256: str, size_bytes: int, now: datetime) -> Change:
    """The control-slip row of an uploaded paper (the status does not change; the dossier is now digitised,
    Decision 766 indicator 4.2)."""
    return Change(action="upload_document", actor=actor, actor_role=actor_role, from_status=state.status.value,
                  at=now, state=state, note=f"Tải lên {document_code}: {filename}",
                  data={"document": document_code, "sha256": sha256, "size_bytes": size_bytes},
                  columns={"digitised": True})


# ---------------------------------------------------------------- the dossier's papers


@dataclass(frozen=True)
class Paper:
    """One paper of the dossier's procedure version, with its uploaded file if any."""

    code: str
    name: str
    mandatory: bool
    document: DossierDocument | None


def papers(session: Session, dossier: Dossier) -> list[Paper]:
    """Every paper the dossier's procedure version names (in its order), then any other declared one, each with
    the file uploaded for it; one query for the dossier's rows."""
    procedure = session.get(Procedure, dossier.procedure_id)
    rows = {d.code: d for d in session.exec(select(DossierDocument).where(DossierDocument.dossier_id == dossier.id)
                                            .order_by(col(DossierDocument.id)))}
    required = procedure.required_documents if procedure else []
    listed = [Paper(d["code"], d["name"], bool(d.get("mandatory", True)), rows.pop(d["code"], None))
              for d in required]
    return listed + [Paper(code, row.name, False, row) for code, row in rows.items()]


def uploaded_file(session: Session, dossier: Dossier, document_code: str) -> tuple[DossierDocument, Blob]:
    """The file uploaded for ``document_code``: 404 ``DOCUMENT_NOT_FOUND`` when the procedure has no such paper,
    404 ``DOCUMENT_FILE_NOT_FOUND`` when none was uploaded."""
    paper = next((p for p in papers(session, dossier) if p.code == document_code), None)
    if paper is None:
        raise NotFound(f"Thủ tục của hồ sơ {dossier.code} không có thành phần hồ sơ {document_code}.",
                       code="DOCUMENT_NOT_FOUND")
    blob = session.get(Blob, paper.document.storage_key) if paper.document and paper.document.storage_key else None
    if paper.document is None or blob is None:
        raise NotFound(f"Chưa có tệp nào được tải lên cho thành phần hồ sơ {document_code}.",
                       code="DOCUMENT_FILE_NOT_FOUND")
    return paper.document, blob


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``Content-Disposition`` with the file's own (e.g. Vietnamese) name as RFC 6266 / RFC 8187 ``filename*``
    and a plain-ASCII ``filename`` for older clients: "Tờ khai.pdf" → ``filename="To khai.pdf";
    filename*=UTF-8''T%E1%BB%9D%20khai.pdf``."""
    name = unicodedata.normalize("NFC", filename).replace("\r", " ").replace("\n", " ") or "file"
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in ascii_name)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
