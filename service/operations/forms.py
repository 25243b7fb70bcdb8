"""The one-stop forms of Circular 03/2025/TT-VPCP, rendered from the control slip and signed by the desk.

Mẫu 02, 03 and 05 are issued with ``request_supplement``, ``reject`` and ``withdraw``: each is rendered on request
from that action's control-slip row (its time, actor, reason), so it reads the same every time, and signed by the
agency's one-stop desk certificate at that row's legal time, like the receipt (Circular 01/2018/TT-VPCP Art. 10:
forms are digitally signed). Mẫu 06 is the control slip itself; Mẫu 07 the desk's register for a period.
Functions here never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from service.domain.legal_time import to_legal_time
from service.domain.lifecycle import STATUS_LABEL, Status
from service.domain.periods import check_period
from service.domain.place_names import place_name
from service.domain.roles import Role
from service.dossiers.slip import history, verify_history
from service.errors import ForbiddenRole, NotFound, Unprocessable
from service.models import Agency, Dossier, DossierEvent, Procedure, ResultDocument, User
from service.operations import results
from service.settings import Settings
from service.signing import pki as x
from service.signing.forms import (
    FORM_TITLES,
    RegisterData,
    RegisterRow,
    SlipData,
    SlipNoticeData,
    SlipRow,
    render_form,
    render_register,
    render_slip,
)

NOTICE_ACTIONS = {"02": "request_supplement", "03": "reject", "05": "withdraw"}
"""The action that issues each notice form."""
STEP_LABEL = {
    "submit": "Nộp hồ sơ", "receive": "Tiếp nhận hồ sơ", "reject": "Từ chối tiếp nhận", "assign": "Giao xử lý",
    "request_supplement": "Yêu cầu bổ sung", "supplement": "Bổ sung hồ sơ", "request_payment": "Yêu cầu nộp phí",
    "pay": "Nộp phí, lệ phí", "extend": "Gia hạn, xin lỗi", "approve": "Phê duyệt kết quả",
    "refuse": "Từ chối giải quyết", "withdraw": "Dừng giải quyết (rút hồ sơ)", "return_result": "Trả kết quả",
    "dispatch_postal": "Chuyển phát kết quả", "confirm_delivery": "Đã giao kết quả",
    "delivery_failed": "Chuyển phát không thành công", "upload_document": "Tải lên giấy tờ",
}
TIMELINESS_LABEL = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
FIELD_NAMES = {"02": "Mau02", "03": "Mau03", "05": "Mau05", "06": "Mau06", "07": "Mau07"}


@dataclass(frozen=True)
class Place:
    agency: str
    parent: str | None
    place: str | None


def place_of(session: Session, agency_code: str) -> Place:
    """The agency's name, its parent's, and the date line's place (from the nearest People's Committee)."""
    chain: list[Agency] = []
    code: str | None = agency_code
    while code and len(chain) < 10:
        agency = session.get(Agency, code)
        if agency is None:
            break
        chain.append(agency)
        code = agency.parent_code
    names = [a.name for a in chain]
    return Place(agency=names[0] if names else agency_code, parent=names[1] if len(names) > 1 else None,
                 place=place_name(names))


@dataclass(frozen=True)
class Issued:
    """A form ready to sign: the PDF, the desk that signs it and the legal time of the signature."""

    pdf: bytes
    agency_code: str
    signed_at: datetime
    field_name: str
    reason: str
    location: str
    filename: str


def _last(session: Session, dossier: Dossier, action: str) -> DossierEvent | None:
    return session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id,
                                                   DossierEvent.action == action)
                        .order_by(col(DossierEvent.seq).desc())).first()


def _full_name(session: Session, username: str) -> str:
    return session.exec(select(User.full_name).where(User.username == username)).first() or username


def _procedure_name(session: Session, dossier: Dossier) -> str:
    procedure = session.get(Procedure, dossier.procedure_id)
    return procedure.name if procedure else dossier.procedure_code


def notice(session: Session, dossier: Dossier, form: str, settings: Settings) -> Issued:
    """Mẫu 02, 03 or 05 as issued by its action's (latest) control-slip row; 404 ``FORM_NOT_ISSUED`` when that
    action never happened to this dossier."""
    event = _last(session, dossier, NOTICE_ACTIONS[form])
    if event is None:
        raise NotFound(f"Hồ sơ {dossier.code} không có {FORM_TITLES[form]} (Mẫu số {form}).",
                       code="FORM_NOT_ISSUED")
    where = place_of(session, dossier.agency_code)
    procedure = session.get(Procedure, dossier.procedure_id)
    names = {d["code"]: d["name"] for d in procedure.required_documents} if procedure else {}
    missing = (event.data or {}).get("missing_documents") or []
    issued_at = to_legal_time(event.at)
    requested_by = None
    if form == "05":
        requested_by = ("Người nộp hồ sơ" if event.actor_role == "citizen"
                        else f"Người nộp hồ sơ, qua Bộ phận Một cửa ({_full_name(session, event.actor)})")
    data = SlipNoticeData(
        form=form, agency_name=where.agency, parent_agency_name=where.parent, place_name=where.place,
        dossier_code=dossier.code, applicant_name=dossier.applicant_full_name,
        applicant_address=dossier.applicant_address or "—", applicant_phone=dossier.applicant_phone or "—",
        procedure_name=procedure.name if procedure else dossier.procedure_code,
        issued_at=issued_at, signer_name=_full_name(session, event.actor),
        reason=event.note or ("Theo đề nghị của người nộp hồ sơ" if form == "05" else "—"),
        items=[f"{names.get(c, c)} ({c})" for c in missing],
        received_at=to_legal_time(dossier.received_at) if dossier.received_at else None, requested_by=requested_by,
        lookup_url=results.lookup_url(settings, dossier.code),
    )
    return Issued(results._render(render_form, data), dossier.agency_code, issued_at, FIELD_NAMES[form],
                  f"{FORM_TITLES[form]} (Mẫu số {form})", where.agency, f"{dossier.code}-M{form}.pdf")


def control_slip(session: Session, dossier: Dossier, settings: Settings) -> Issued:
    """Mẫu 06: the control slip as of its latest row (signed at that row's time)."""
    where = place_of(session, dossier.agency_code)
    events = history(session, dossier)
    valid, _ = verify_history(session, dossier)
    issued_at = to_legal_time(events[-1].at)
    actors = {e.actor: _full_name(session, e.actor) for e in events}
    rows = [SlipRow(seq=e.seq, at=to_legal_time(e.at), step=STEP_LABEL.get(e.action, e.action),
                    actor=actors[e.actor], from_status=e.from_status,
                    to_status=STATUS_LABEL[Status(e.to_status)], note=e.note) for e in events]
    desk = _last(session, dossier, "receive")
    data = SlipData(
        agency_name=where.agency, parent_agency_name=where.parent, place_name=where.place,
        dossier_code=dossier.code, applicant_name=dossier.applicant_full_name,
        procedure_name=_procedure_name(session, dossier),
        received_at=to_legal_time(dossier.received_at) if dossier.received_at else None,
        due_at=to_legal_time(dossier.due_at) if dossier.due_at else None, rows=rows,
        timeliness=TIMELINESS_LABEL.get(dossier.timeliness or ""), issued_at=issued_at,
        signer_name=actors.get(desk.actor, desk.actor) if desk else where.agency, chain_valid=valid,
        lookup_url=results.lookup_url(settings, dossier.code),
    )
    return Issued(results._render(render_slip, data), dossier.agency_code, issued_at, FIELD_NAMES["06"],
                  f"{FORM_TITLES['06']} (Mẫu số 06)", where.agency, f"{dossier.code}-M06.pdf")


def _period(first: date, last: date) -> tuple[datetime, datetime]:
    from service.signing.documents import VN_TZ

    return (datetime.combine(first, time(), VN_TZ), datetime.combine(last + timedelta(days=1), time(), VN_TZ))


MAX_REGISTER_DAYS = 366


def register_desk(session: Session, user: User, agency_code: str | None, first: date, last: date) -> str:
    """The desk whose register (Mẫu 07) is printed, for a period of at most a year: staff print their own desk's
    (403 for another agency's); an admin names the agency (422 without one, 404 for an unknown one)."""
    check_period(first, last, max_days=MAX_REGISTER_DAYS)
    if user.role != Role.ADMIN:
        if agency_code is not None and agency_code != user.agency_code:
            raise ForbiddenRole("Cán bộ chỉ được in sổ theo dõi hồ sơ của cơ quan mình.")
        assert user.agency_code is not None  # staff always belong to an agency
        return user.agency_code
    if agency_code is None:
        raise Unprocessable("Cần chọn cơ quan (agency_code) để in sổ theo dõi hồ sơ.", code="AGENCY_REQUIRED")
    if session.get(Agency, agency_code) is None:
        raise NotFound(f"Không tìm thấy cơ quan có mã {agency_code}.", code="AGENCY_NOT_FOUND")
    return agency_code


def register_rows(session: Session, agency_code: str, first: date, last: date) -> list[RegisterRow]:
    """The dossiers the agency received in the period (local days ``first``..``last``), in order of receipt; one
    query for the dossiers and one for their procedures' names."""
    start, end = _period(first, last)
    dossiers = list(session.exec(select(Dossier).where(
        Dossier.agency_code == agency_code, col(Dossier.received_at) >= start, col(Dossier.received_at) < end)
        .order_by(col(Dossier.received_at), col(Dossier.id))))
    names: dict[int, str] = {}
    if dossiers:
        rows = session.exec(select(Procedure.id, Procedure.name)
                            .where(col(Procedure.id).in_({d.procedure_id for d in dossiers}))).all()
        names = {procedure_id: name for procedure_id, name in rows}  # type: ignore[misc]
    return [RegisterRow(
        number=i, dossier_code=d.code, procedure_name=names.get(d.procedure_id, d.procedure_code),
        applicant_name=d.applicant_full_name,
        applicant_contact="; ".join(v for v in (d.applicant_address, d.applicant_phone) if v) or "—",
        received_at=d.received_at, due_at=d.due_at, finished_at=d.finished_at, returned_at=d.returned_at,
        status=STATUS_LABEL[Status(d.status)], note=TIMELINESS_LABEL.get(d.timeliness or "", ""),
    ) for i, d in enumerate(dossiers, 1)]


def register(session: Session, agency_code: str, first: date, last: date, *, signer: User,
             now: datetime) -> Issued:
    """Mẫu 07 for the period, signed at its end (or now, for a period not over yet)."""
    where = place_of(session, agency_code)
    issued_at = to_legal_time(min(now, _period(first, last)[1]))
    data = RegisterData(agency_name=where.agency, parent_agency_name=where.parent, place_name=where.place,
                        first=first, last=last, rows=register_rows(session, agency_code, first, last),
                        issued_at=issued_at, signer_name=signer.full_name)
    return Issued(results._render(render_register, data), agency_code, issued_at, FIELD_NAMES["07"],
                  f"{FORM_TITLES['07']} (Mẫu số 07)", where.agency,
                  f"So-theo-doi-ho-so-{agency_code}-{first:%Y%m%d}-{last:%Y%m%d}.pdf")


def sign(issued: Issued, desk: x.IssuedCertificate) -> bytes:
    return results.sign(issued.pdf, desk, field_name=issued.field_name, reason=issued.reason,
                        location=issued.location, at=issued.signed_at)


@dataclass(frozen=True)
class FormEntry:
    form: str
    title: str
    issued_at: datetime
    href: str


def forms_of(session: Session, dossier: Dossier) -> list[FormEntry]:
    """The documents the dossier has: its forms (Circular 03/2025 Mẫu 01–06) and its result, oldest first."""
    base = f"/api/v1/dossiers/{dossier.code}"
    events = history(session, dossier)
    entries: list[FormEntry] = []
    firsts: dict[str, Any] = {}
    for e in events:
        firsts.setdefault(e.action, e)
    lasts = {e.action: e for e in events}
    if "receive" in firsts and firsts["receive"].due_at is not None:
        entries.append(FormEntry("01", FORM_TITLES["01"], firsts["receive"].at, f"{base}/receipt"))
    for form, action in NOTICE_ACTIONS.items():
        if action in lasts:
            entries.append(FormEntry(form, FORM_TITLES[form], lasts[action].at, f"{base}/forms/{form}"))
    if "extend" in lasts:
        entries.append(FormEntry("04", FORM_TITLES["04"], lasts["extend"].at, f"{base}/apology-letter"))
    result = session.get(ResultDocument, dossier.id)
    if result is not None:
        entries.append(FormEntry("KQ", f"Kết quả giải quyết {result.code}", result.signed_at,
                                 f"{base}/result/document"))
    if events:
        entries.append(FormEntry("06", FORM_TITLES["06"], events[-1].at, f"{base}/forms/06"))
    return sorted(entries, key=lambda entry: (entry.issued_at, entry.form))
