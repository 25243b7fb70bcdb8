"""The dossier application layer: load, check, call the pure rules, persist, append the control slip.

Functions here never commit: the caller's transaction (the request) commits the state change, its audit row and
its idempotency record together, or nothing at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, func, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from service import tablewriter
from service.domain import audit, lifecycle, postal
from service.domain.calendar import WorkingCalendar
from service.domain.lifecycle import Action, ActionInput, DossierState, Status
from service.domain.submission import DocumentRequirement, ProcedureTerms, check_channel_for_role, check_submission
from service.errors import NotFound, Unprocessable, VersionMismatch
from service.models import (
    DailySequence,
    Dossier,
    DossierDocument,
    DossierEvent,
    Notification,
    Procedure,
    ResultDocument,
    Shipment,
    User,
)
from service.operations import catalogue
from service.operations.calendars import calendar_for
from service.schemas.dossiers import (
    ActionIn,
    Applicant,
    DocumentOut,
    DossierIn,
    DossierOut,
    PostalOut,
    PublicDossier,
    ResultOut,
)
from service.timezone import to_local, utc_now

STAFF_ROLES = frozenset({"receiver", "processor", "approver"})
CHANNEL_LABEL = {"online": "trực tuyến", "counter": "trực tiếp tại Bộ phận Một cửa",
                 "postal": "qua dịch vụ bưu chính công ích"}


# ---------------------------------------------------------------- visibility


def visibility_filter(user: User) -> Any:
    """Citizens see their own dossiers, staff their agency's, admins all."""
    if user.role == "citizen":
        return col(Dossier.applicant_user_id) == user.id
    if user.role in STAFF_ROLES:
        return col(Dossier.agency_code) == user.agency_code
    return True


def get_visible(session: Session, user: User, code: str, *, for_update: bool = False) -> Dossier:
    query = select(Dossier).where(Dossier.code == code, visibility_filter(user))
    if for_update:
        query = query.with_for_update()
    dossier = session.exec(query).first()
    if dossier is None:
        raise NotFound(f"Không tìm thấy hồ sơ {code}.", code="DOSSIER_NOT_FOUND")
    return dossier


# ---------------------------------------------------------------- state mapping

_STATE_FIELDS = tuple(f for f in DossierState.__dataclass_fields__ if f != "status")


def state_of(dossier: Dossier) -> DossierState:
    values = {name: getattr(dossier, name) for name in _STATE_FIELDS}
    return DossierState(status=Status(dossier.status), **values)


_ALL_STATE_FIELDS = tuple(DossierState.__dataclass_fields__)


def store_state(dossier: Dossier, state: DossierState) -> None:
    """Copy ``state`` onto the row, setting only the fields that changed (cheaper on the ORM; same row)."""
    for name in _ALL_STATE_FIELDS:
        value = getattr(state, name)
        if isinstance(value, Status):
            value = value.value
        if getattr(dossier, name) != value:
            setattr(dossier, name, value)


# ---------------------------------------------------------------- codes and the control slip


def next_code(session: Session, agency_code: str, now: datetime) -> str:
    """``<agency>-YYMMDD-NNNN`` (Circular 01/2018/TT-VPCP Art. 19): a daily sequence per agency from 0001,
    drawn with one atomic upsert so concurrent submissions never share a number."""
    day = to_local(now).date()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(DailySequence)
        .values(agency_code=agency_code, day=day, last=1)
        .on_conflict_do_update(index_elements=["agency_code", "day"], set_={"last": DailySequence.last + 1})
        .returning(DailySequence.last)
    )
    number = session.execute(statement).scalar_one()
    return format_code(agency_code, day, number)


def format_code(agency_code: str, day: date, number: int) -> str:
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


class DailyNumbers:
    """The agencies' daily dossier numbers drawn in memory, for writers that bypass :func:`next_code` (the bulk
    generator, the simulator's ledger) and are the database's only writer: they continue the stored sequences
    and :meth:`store` writes back the ones drawn from."""

    def __init__(self, last: dict[tuple[str, date], int]) -> None:
        self.last = dict(last)
        self._touched: set[tuple[str, date]] = set()

    @classmethod
    def load(cls, session: Session) -> DailyNumbers:
        return cls({(r.agency_code, r.day): r.last for r in session.exec(select(DailySequence))})

    def next(self, agency_code: str, now: datetime) -> str:
        day = to_local(now).date()
        number = self.last[(agency_code, day)] = self.last.get((agency_code, day), 0) + 1
        self._touched.add((agency_code, day))
        return format_code(agency_code, day, number)

    def store(self, session: Session) -> None:
        tablewriter.store_daily_sequences(session, {key: self.last[key] for key in self._touched})
        self._touched.clear()


class SlipRow:
    """A control-slip row's content as plain attributes (what :func:`event_content` reads), for writers that
    bypass the ORM."""

    __slots__ = ("action", "actor", "actor_role", "at", "data", "due_at", "from_status", "note", "seq",
                 "to_status")

    def __init__(self, *, seq: int, at: datetime, action: str, actor: str, actor_role: str,
                 from_status: str | None, to_status: str, note: str | None, data: dict[str, Any],
                 due_at: datetime | None) -> None:
        self.seq, self.at, self.action, self.actor, self.actor_role = seq, at, action, actor, actor_role
        self.from_status, self.to_status, self.note, self.data, self.due_at = from_status, to_status, note, data, due_at


def event_content(dossier_code: str, event: Any) -> dict[str, Any]:
    return {
        "dossier": dossier_code,
        "seq": event.seq,
        "at": event.at,
        "action": event.action,
        "actor": event.actor,
        "actor_role": event.actor_role,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "data": event.data,
        "due_at": event.due_at,
    }


def record_event(
    session: Session, dossier: Dossier, *, action: str, actor: str, actor_role: str, from_status: str | None,
    note: str | None, now: datetime, data: dict[str, Any] | None = None,
) -> DossierEvent:
    """Append one control-slip row, chained to the previous one."""
    heads = _chain_heads(session)
    last_seq, last_hash = heads.get(dossier.id) or _chain_head(session, dossier)  # type: ignore[arg-type]
    event = DossierEvent(
        dossier_id=dossier.id,  # type: ignore[arg-type]
        seq=last_seq + 1,
        at=now,
        recorded_at=utc_now(),
        action=action,
        actor=actor,
        actor_role=actor_role,
        from_status=from_status,
        to_status=dossier.status,
        note=note,
        data=data or {},
        due_at=dossier.due_at,
        prev_hash=last_hash,
        hash="",
    )
    event.hash = audit.entry_hash(event.prev_hash, event_content(dossier.code, event))
    session.add(event)
    session.flush()
    heads[dossier.id] = (event.seq, event.hash)  # type: ignore[index]
    return event


_CHAIN_HEADS = "motcua.chain_heads"


def _chain_heads(session: Session) -> dict[int, tuple[int, str]]:
    """``(seq, hash)`` of the last row this session appended per dossier, kept for the current transaction only
    (a new transaction starts afresh; inside a savepoint nothing is kept and the cache is dropped), so a rollback
    can never leave a stale head. Spares the simulator (many actions per transaction) one query per row; the
    chain is the same."""
    transaction = session.get_transaction()
    if transaction is None or session.get_nested_transaction() is not None:
        session.info.pop(_CHAIN_HEADS, None)
        return {}
    cached = session.info.get(_CHAIN_HEADS)
    if cached is None or cached[0] is not transaction:
        cached = session.info[_CHAIN_HEADS] = (transaction, {})
    return cached[1]  # type: ignore[no-any-return]


def _chain_head(session: Session, dossier: Dossier) -> tuple[int, str]:
    last = session.exec(
        select(DossierEvent.seq, DossierEvent.hash).where(DossierEvent.dossier_id == dossier.id)
        .order_by(col(DossierEvent.seq).desc()).limit(1)
    ).first()
    return (last[0], last[1]) if last else (0, audit.GENESIS)


def history(session: Session, dossier: Dossier) -> list[DossierEvent]:
    return list(session.exec(
        select(DossierEvent).where(DossierEvent.dossier_id == dossier.id).order_by(col(DossierEvent.seq))
    ))


def verify_history(session: Session, dossier: Dossier) -> tuple[bool, int]:
    events = history(session, dossier)
    valid = audit.verify_chain((event_content(dossier.code, e), e.prev_hash, e.hash) for e in events)
    return valid, len(events)


@dataclass(frozen=True)
class Notice:
    """A notice to the applicant (SMS/e-mail/portal), as Decree 61/2018 Arts. 17, 19 and 20 require."""

    subject: str
    body: str


def notice_recipient(phone: str | None, national_id: str) -> tuple[str, str]:
    """``(channel, recipient)``: an SMS when the applicant gave a phone number, the portal inbox otherwise."""
    return ("sms", phone) if phone else ("portal", national_id or "")


def notify(session: Session, dossier: Dossier, *, subject: str, body: str, now: datetime) -> Notification:
    """Record a notice to the applicant (see :class:`Notice`)."""
    channel, recipient = notice_recipient(dossier.applicant_phone, dossier.applicant_national_id)
    notification = Notification(dossier_id=dossier.id, channel=channel, recipient=recipient,  # type: ignore[arg-type]
                                subject=subject, body=body, at=now)
    session.add(notification)
    return notification


# ---------------------------------------------------------------- submission


@dataclass(frozen=True)
class Submitted:
    dossier: Dossier
    tracking_secret: str


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def submit(session: Session, *, user: User, data: DossierIn, now: datetime) -> Submitted:
    """Lodge a dossier. Online dossiers wait for the desk (``submitted``); counter and postal ones are received
    on the spot, their clock starting now (for post: at the hand-over record, Decision 45/2016 Art. 7(4))."""
    procedure = catalogue.current_version(session, data.procedure_code)
    handover = check_lodging(procedure, user, data, now)
    applicant_user_id, applicant = applicant_of(user, data, lambda national_id: session.exec(
        select(User.id).where(User.national_id == national_id, User.role == "citizen")).first())
    secret = secrets.token_urlsafe(18)
    dossier = Dossier(
        code=next_code(session, procedure.agency_code, now),
        tracking_secret_hash=secret_hash(secret),
        **lodged_values(procedure, user, data, applicant_user_id=applicant_user_id, applicant=applicant, now=now),
    )
    session.add(dossier)
    session.flush()
    _chain_heads(session)[dossier.id] = (0, audit.GENESIS)  # type: ignore[index]  # no control-slip row yet
    for code, name in documents_of(procedure, data):
        session.add(DossierDocument(dossier_id=dossier.id, code=code, name=name, created_at=now))  # type: ignore[arg-type]
    record_event(session, dossier, action="submit", actor=user.username, actor_role=user.role, from_status=None,
                 note=submit_note(data.channel), now=now)
    if data.channel != "online":  # received on the spot, after the "submit" row (the slip shows both steps)
        store_state(dossier, lifecycle.start_clock(state_of(dossier), now=now,
                                                   calendar=calendar_for(session, dossier.agency_code)))
        note, receipt_data = receipt_note(handover)
        record_event(session, dossier, action="receive", actor=user.username, actor_role=user.role,
                     from_status=Status.SUBMITTED.value, note=note, now=now, data=receipt_data)
    return Submitted(dossier, secret)


def check_lodging(procedure: Procedure, user: User, data: DossierIn, now: datetime) -> dict[str, Any] | None:
    """The submission rules (Decree 61/2018 Art. 15–17, Decision 45/2016 for post): who may use the channel,
    the receiver's own agency, the procedure's terms and papers. Returns the postal hand-over record, if any."""
    check_channel_for_role(user.role, data.channel)
    if user.role == "receiver" and procedure.agency_code != user.agency_code:
        raise Unprocessable("Thủ tục không thuộc thẩm quyền tiếp nhận của đơn vị bạn.",
                            code="PROCEDURE_OUTSIDE_AGENCY")
    terms = ProcedureTerms(
        service_level=procedure.service_level,
        postal_allowed=procedure.postal_allowed,
        documents=[DocumentRequirement(d["code"], d["name"], bool(d.get("mandatory", True)))
                   for d in procedure.required_documents],
    )
    check_submission(terms, channel=data.channel, result_delivery=data.result_delivery,
                     delivery_address=data.delivery_address, document_codes=[d.code for d in data.documents])
    return None if data.postal_handover is None else postal.handover_record(
        data.channel, data.postal_handover.receipt_number, data.postal_handover.posted_at, handed_over_at=now)


def applicant_of(user: User, data: DossierIn,
                 find_citizen: Callable[[str], int | None]) -> tuple[int | None, Applicant]:
    """The applicant and their account: a citizen lodges for themselves; a desk officer declares the applicant,
    linked to a citizen account with the same national id when there is one (``find_citizen``)."""
    if user.role == "citizen":
        if data.applicant and data.applicant.national_id != user.national_id:
            raise Unprocessable("Công dân chỉ nộp hồ sơ cho chính mình.", code="APPLICANT_MISMATCH")
        extra = data.applicant
        return user.id, Applicant(
            national_id=user.national_id or user.username, full_name=user.full_name,
            phone=(extra.phone if extra and extra.phone else user.phone), address=extra.address if extra else None)
    if data.applicant is None:
        raise Unprocessable("Cần khai báo người nộp hồ sơ (applicant).", code="APPLICANT_REQUIRED")
    return find_citizen(data.applicant.national_id), Applicant.model_validate(data.applicant.model_dump())


def lodged_values(procedure: Procedure, user: User, data: DossierIn, *, applicant_user_id: int | None,
                  applicant: Applicant, now: datetime) -> dict[str, Any]:
    """A new dossier's columns (all but ``id``, ``code`` and ``tracking_secret_hash``), status ``submitted``."""
    return {
        "procedure_id": procedure.id, "procedure_code": procedure.code, "procedure_version": procedure.version,
        "agency_code": procedure.agency_code, "channel": data.channel, "result_delivery": data.result_delivery,
        "delivery_address": data.delivery_address, "status": Status.SUBMITTED.value,
        "applicant_user_id": applicant_user_id, "applicant_national_id": applicant.national_id,
        "applicant_full_name": applicant.full_name, "applicant_phone": applicant.phone,
        "applicant_address": applicant.address, "submitted_at": now, "fee_vnd": procedure.fee_vnd,
        "assisted": data.assisted, "digitised": False, "processing_value": procedure.processing_value,
        "processing_unit": procedure.processing_unit, "supplement_policy": procedure.supplement_policy,
        "service_level": procedure.service_level, "created_by_id": user.id, "created_at": now, "updated_at": now,
    }


def documents_of(procedure: Procedure, data: DossierIn) -> list[tuple[str, str]]:
    """``(code, name)`` of the papers declared with the submission, named as in the procedure."""
    names = {d["code"]: d["name"] for d in procedure.required_documents}
    return [(ref.code, names[ref.code]) for ref in data.documents]


def submit_note(channel: str) -> str:
    return f"Nộp hồ sơ {CHANNEL_LABEL[channel]}"


def receipt_note(handover: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    """The note and data of the ``receive`` row: Mẫu 01 issued (Circular 01/2018/TT-VPCP), and for post the
    hand-over record (Decision 45/2016 Art. 7(4))."""
    if handover is None:
        return "Tiếp nhận hồ sơ, cấp Giấy tiếp nhận (Mẫu 01)", None
    return (f"Tiếp nhận hồ sơ, cấp Giấy tiếp nhận (Mẫu 01); Biên bản giao nhận số {handover['receipt_number']}",
            {"postal_handover": handover})


# ---------------------------------------------------------------- actions


def parse_action(name: str) -> Action:
    try:
        return Action(name)
    except ValueError:
        raise NotFound(f"Không có thao tác '{name}'.", code="ACTION_NOT_FOUND") from None


def check_version(dossier: Dossier, if_match: str | None) -> None:
    if if_match is None:
        return
    wanted = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if "*" not in wanted and str(dossier.version) not in wanted:
        raise VersionMismatch()


def parse_body(payload: Any) -> ActionIn:
    from fastapi.exceptions import RequestValidationError

    try:
        return ActionIn.model_validate({} if payload is None else payload)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err.get("loc", ()))} for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def required(value: Any, field: str) -> Any:
    if value is None or value == []:
        raise Unprocessable(f"Thao tác này cần trường '{field}'.", code="FIELD_REQUIRED")
    return value


def act(
    session: Session, *, user: User, dossier: Dossier, action: Action, payload: dict[str, Any] | None,
    if_match: str | None, now: datetime, actor_role: str | None = None, actor_name: str | None = None,
) -> Dossier:
    """Apply one lifecycle action. Checks run in the contract's order: role 403, state 409, version 412,
    body 422. ``dossier`` must have been loaded ``for_update`` (visibility, 404, is the caller's check)."""
    role = actor_role or user.role
    lifecycle.authorize(action, role)
    calendar = calendar_for(session, dossier.agency_code)
    state = state_of(dossier)
    lifecycle.guard(state, action, role=role, now=now, calendar=calendar)
    check_version(dossier, if_match)
    body = parse_body(payload)
    assignee = _assignee(session, dossier, required(body.assignee, "assignee")) if action is Action.ASSIGN \
        else None
    step = plan_action(state, action, body, code=dossier.code, role=role, now=now, calendar=calendar,
                       assignee=assignee)
    from_status = dossier.status
    store_state(dossier, step.state)
    if assignee is not None:
        dossier.assignee_id = assignee.id
    dossier.version += 1
    dossier.updated_at = now
    session.add(dossier)
    session.flush()
    if step.notice is not None:
        notify(session, dossier, subject=step.notice.subject, body=step.notice.body, now=now)
    data = dict(step.data)
    for hook in () if action in _SKIPPED_HOOKS.get() else ACTION_HOOKS.get(action, ()):
        data.update(hook(session, dossier=dossier, user=user, now=now, body=body) or {})
    record_event(session, dossier, action=action.value, actor=actor_name or user.username, actor_role=role,
                 from_status=from_status, note=step.note, now=now, data=data)
    return dossier


@dataclass(frozen=True)
class Step:
    """What one action does to a dossier, decided without the database: the state after it, the control-slip
    row's note and data, and the notice to the applicant. :func:`act` persists it row by row; the simulator's
    ledger (:mod:`service.simulation.ledger`) persists the same steps in batches."""

    state: DossierState
    note: str | None
    data: dict[str, Any]
    notice: Notice | None = None


def apology_letter(original_due_at: datetime | None, new_due_at: datetime | None,
                   reason: str | None) -> dict[str, Any]:
    """What the control slip records of a re-scheduling: the apology letter, Mẫu 04 of Circular 01/2018/TT-VPCP
    (Decree 61/2018 Art. 19(9))."""
    return {"form": "Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả",
            "original_due_at": to_local(original_due_at).isoformat() if original_due_at else None,
            "new_due_at": to_local(new_due_at).isoformat() if new_due_at else None, "reason": reason}


def plan_action(state: DossierState, action: Action, body: ActionIn, *, code: str, role: str, now: datetime,
                calendar: WorkingCalendar, assignee: User | None = None) -> Step:
    """The :class:`Step` of ``action`` (after :func:`~service.domain.lifecycle.authorize` and
    :func:`~service.domain.lifecycle.guard`): required fields (422 ``FIELD_REQUIRED``), the rules'
    :func:`~service.domain.lifecycle.apply`, the note, and the notices of Decree 61/2018 — Mẫu 02 on a
    supplement request (Art. 19(4)), Mẫu 04 on a re-scheduling (Art. 19(9)), the result being ready (Art. 20),
    a failed postal delivery (Decision 45/2016 Art. 10). ``assignee`` is the resolved processor of ``assign``."""
    note = body.note or body.reason
    data: dict[str, Any] = {}
    if action in (Action.REJECT, Action.REFUSE):
        required(body.reason, "reason")
    elif action is Action.ASSIGN:
        assert assignee is not None, "assign needs the resolved assignee"
        data["assignee"] = assignee.username
        note = note or f"Giao {assignee.full_name} xử lý"
    elif action is Action.REQUEST_SUPPLEMENT:
        required(body.reason, "reason")
        data["missing_documents"] = required(body.missing_documents, "missing_documents")
    elif action is Action.REQUEST_PAYMENT:
        data["amount_vnd"] = required(body.amount_vnd, "amount_vnd")
    elif action is Action.EXTEND:
        required(body.reason, "reason")
        required(body.new_due_at, "new_due_at")

    new_state = lifecycle.apply(state, action, ActionInput(reason=body.reason, new_due_at=body.new_due_at,
                                                           amount_vnd=body.amount_vnd, at=body.at),
                                role=role, now=now, calendar=calendar)
    notice = None
    if action is Action.EXTEND:
        data["apology_letter"] = apology_letter(new_state.original_due_at, new_state.due_at, body.reason)
        notice = Notice("Phiếu xin lỗi và hẹn lại ngày trả kết quả",
                        f"Hồ sơ {code} được hẹn lại ngày trả kết quả: "
                        f"{to_local(new_state.due_at):%H:%M %d/%m/%Y}. Lý do: {body.reason}")  # type: ignore[arg-type]
    elif action is Action.REQUEST_SUPPLEMENT:
        notice = Notice("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (Mẫu 02)",
                        f"Hồ sơ {code} cần bổ sung: {', '.join(data['missing_documents'])}. Lý do: {body.reason}")
    elif action is Action.DELIVERY_FAILED:
        notice = Notice("Chuyển phát kết quả không thành công",
                        f"Kết quả hồ sơ {code} chưa giao được; mời ông/bà nhận tại Bộ phận Một cửa.")
    elif action is Action.APPROVE:
        notice = Notice("Hồ sơ đã có kết quả", f"Hồ sơ {code} đã có kết quả giải quyết.")
    return Step(new_state, note, data, notice)


ActionHook = Any
ACTION_HOOKS: dict[Action, list[ActionHook]] = {}
"""Side effects attached to actions by other modules (signing the result on approve, creating the shipment on
dispatch): each runs inside the same transaction, after the state change and before the audit row."""


def on_action(action: Action) -> Any:
    def register(hook: ActionHook) -> ActionHook:
        ACTION_HOOKS.setdefault(action, []).append(hook)
        return hook

    return register


_SKIPPED_HOOKS: ContextVar[frozenset[Action]] = ContextVar("motcua_skipped_action_hooks", default=frozenset())


@contextmanager
def action_hooks_skipped(*actions: Action) -> Iterator[None]:
    """Inside this block, :func:`act` runs no :data:`ACTION_HOOKS` of ``actions`` (the state change, notice and
    control-slip row still happen). For the simulator only: ``motcua simulate`` skips the result signing on
    ``approve`` (~100 ms a dossier) unless ``--sign-results``, and says so in its summary. A context variable,
    so it never reaches other threads or requests."""
    token = _SKIPPED_HOOKS.set(_SKIPPED_HOOKS.get() | frozenset(actions))
    try:
        yield
    finally:
        _SKIPPED_HOOKS.reset(token)


def action_hooks_skipped_now() -> frozenset[Action]:
    """The actions whose hooks :func:`action_hooks_skipped` turns off here and now."""
    return _SKIPPED_HOOKS.get()


def _assignee(session: Session, dossier: Dossier, username: str) -> User:
    return check_assignee(session.exec(select(User).where(User.username == username)).first(), dossier.agency_code)


def check_assignee(assignee: User | None, agency_code: str) -> User:
    """Only a processor of the agency that handles the dossier can be given it (422 ``ASSIGNEE_INVALID``)."""
    if assignee is None or assignee.role != "processor" or assignee.agency_code != agency_code:
        raise Unprocessable("Người được giao phải là chuyên viên xử lý của cơ quan giải quyết hồ sơ.",
                            code="ASSIGNEE_INVALID")
    return assignee


# ---------------------------------------------------------------- lists


def encode_cursor(dossier_id: int) -> str:
    return base64.urlsafe_b64encode(str(dossier_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise Unprocessable("Con trỏ phân trang không hợp lệ.", code="INVALID_CURSOR") from None


def overdue_condition(now: datetime) -> Any:
    """Null-safe (never SQL NULL), so that its negation selects every dossier that is not overdue."""
    return or_(
        and_(col(Dossier.status).in_([s.value for s in lifecycle.RUNNING]), col(Dossier.due_at).is_not(None),
             col(Dossier.due_at) < now),
        and_(col(Dossier.timeliness).is_not(None), col(Dossier.timeliness) == "late"),
    )


@dataclass(frozen=True)
class DossierFilter:
    status: str | None = None
    procedure_code: str | None = None
    agency_code: str | None = None
    overdue: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    applicant_national_id: str | None = None
    channel: str | None = None


def list_page(session: Session, *, user: User, filters: DossierFilter, now: datetime, limit: int,
              cursor: str | None) -> tuple[list[Dossier], str | None]:
    """Newest first, keyset-paginated on the primary key: each page is one index range scan, no OFFSET, no count."""
    query = select(Dossier).where(visibility_filter(user))
    if filters.status:
        query = query.where(Dossier.status == filters.status)
    if filters.procedure_code:
        query = query.where(Dossier.procedure_code == filters.procedure_code)
    if filters.agency_code:
        query = query.where(Dossier.agency_code == filters.agency_code)
    if filters.channel:
        query = query.where(Dossier.channel == filters.channel)
    if filters.overdue is not None:
        condition = overdue_condition(now)
        query = query.where(condition if filters.overdue else ~condition)
    if filters.received_from:
        query = query.where(col(Dossier.received_at) >= filters.received_from)
    if filters.received_to:
        query = query.where(col(Dossier.received_at) < filters.received_to)
    if filters.applicant_national_id and user.role != "citizen":
        query = query.where(Dossier.applicant_national_id == filters.applicant_national_id)
    if cursor:
        query = query.where(col(Dossier.id) < decode_cursor(cursor))
    rows = list(session.exec(query.order_by(col(Dossier.id).desc()).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None  # type: ignore[arg-type]
    return rows[:limit], next_cursor


# ---------------------------------------------------------------- representation


def present(session: Session, dossiers: Sequence[Dossier], *, now: datetime) -> list[DossierOut]:
    """Dossier representations, loading related rows in one query per table (no N+1)."""
    if not dossiers:
        return []
    ids = [d.id for d in dossiers]
    procedures = {p.id: p for p in session.exec(
        select(Procedure).where(col(Procedure.id).in_({d.procedure_id for d in dossiers})))}
    assignee_ids = {d.assignee_id for d in dossiers if d.assignee_id}
    assignees = {u.id: u.username for u in session.exec(select(User).where(col(User.id).in_(assignee_ids)))} \
        if assignee_ids else {}
    documents: dict[int, list[DossierDocument]] = {}
    for doc in session.exec(select(DossierDocument).where(col(DossierDocument.dossier_id).in_(ids))
                            .order_by(col(DossierDocument.id))):
        documents.setdefault(doc.dossier_id, []).append(doc)
    results = {r.dossier_id: r for r in session.exec(
        select(ResultDocument).where(col(ResultDocument.dossier_id).in_(ids)))}
    shipments: dict[int, Shipment] = {}
    for shipment in session.exec(select(Shipment).where(col(Shipment.dossier_id).in_(ids))
                                 .order_by(col(Shipment.id))):
        shipments[shipment.dossier_id] = shipment
    return [_present_one(d, procedures[d.procedure_id], assignees.get(d.assignee_id),
                         documents.get(d.id, []), results.get(d.id), shipments.get(d.id), now)  # type: ignore[arg-type]
            for d in dossiers]


def result_out(result: ResultDocument) -> ResultOut:
    return ResultOut(code=result.code, sha256=result.blob_sha256, signed_by=result.signed_by,
                     signed_at=result.signed_at, certificate_serial=result.certificate_serial)


def postal_out(shipment: Shipment) -> PostalOut:
    return PostalOut(tracking_number=shipment.tracking_number, status=shipment.status,
                     dispatched_at=shipment.dispatched_at, expected_by=shipment.expected_by,
                     delivered_at=shipment.delivered_at, postage_vnd=shipment.postage_vnd, zone=shipment.zone,
                     failed_at=shipment.failed_at, carrier_late=shipment.carrier_late)


def _present_one(d: Dossier, procedure: Procedure, assignee: str | None, documents: list[DossierDocument],
                 result: ResultDocument | None, shipment: Shipment | None, now: datetime) -> DossierOut:
    status = Status(d.status)
    return DossierOut(
        code=d.code,
        procedure_code=d.procedure_code,
        procedure_version=d.procedure_version,
        procedure_name=procedure.name,
        agency_code=d.agency_code,
        channel=d.channel,  # type: ignore[arg-type]
        result_delivery=d.result_delivery,  # type: ignore[arg-type]
        delivery_address=d.delivery_address,
        status=status.value,
        status_label=lifecycle.STATUS_LABEL[status],
        national_status_code=lifecycle.NATIONAL_STATUS_CODE[status],
        applicant=Applicant(national_id=d.applicant_national_id, full_name=d.applicant_full_name,
                            phone=d.applicant_phone, address=d.applicant_address),
        submitted_at=d.submitted_at,
        received_at=d.received_at,
        due_at=d.due_at,
        original_due_at=d.original_due_at,
        finished_at=d.finished_at,
        returned_at=d.returned_at,
        timeliness=d.timeliness,  # type: ignore[arg-type]
        overdue=lifecycle.is_overdue(state_of(d), now),
        supplement_count=d.supplement_count,
        extension_count=d.extension_count,
        fee_vnd=d.fee_vnd,
        paid=d.paid,
        assisted=d.assisted,
        assignee=assignee,
        documents=[DocumentOut.model_validate(doc, from_attributes=True) for doc in documents],
        version=d.version,
        result=result_out(result) if result else None,
        postal=postal_out(shipment) if shipment else None,
    )


# ---------------------------------------------------------------- public lookup

_DUMMY_SECRET_HASH = secret_hash("no-such-dossier")


def public_lookup(session: Session, code: str, secret: str) -> PublicDossier:
    """Status for anyone holding the code and the tracking secret. An unknown code and a wrong secret give the
    same answer, and the secret is compared in constant time either way."""
    row = session.exec(select(Dossier, Procedure.name).join(Procedure, col(Procedure.id) == Dossier.procedure_id)
                       .where(Dossier.code == code)).first()
    stored = row[0].tracking_secret_hash if row else _DUMMY_SECRET_HASH
    matches = hmac.compare_digest(stored, secret_hash(secret))
    if row is None or not matches:
        raise NotFound("Không tìm thấy hồ sơ hoặc mã tra cứu không đúng.", code="DOSSIER_NOT_FOUND")
    dossier, procedure_name = row
    status = Status(dossier.status)
    return PublicDossier(
        code=dossier.code, procedure_code=dossier.procedure_code, procedure_name=procedure_name,
        agency_code=dossier.agency_code, status=status.value, status_label=lifecycle.STATUS_LABEL[status],
        national_status_code=lifecycle.NATIONAL_STATUS_CODE[status], received_at=dossier.received_at,
        due_at=dossier.due_at, finished_at=dossier.finished_at, returned_at=dossier.returned_at,
        timeliness=dossier.timeliness,  # type: ignore[arg-type]
    )


def count_by_status(session: Session, user: User) -> dict[str, int]:
    rows = session.exec(select(Dossier.status, func.count()).where(visibility_filter(user))
                        .group_by(Dossier.status)).all()
    return {status: count for status, count in rows}
