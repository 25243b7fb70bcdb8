"""The postal channel's application layer: shipments, carrier events, the simulated carrier, statistics.

Legal basis: Decision 45/2016/QĐ-TTg (return of results by public postal service) and Circular
17/2017/TT-BTTTT Art. 7 (J+n service levels); the rules themselves live in :mod:`service.domain.postal`.

Postal transit never touches the agency's deadline: ``finished_at`` and ``timeliness`` are fixed on approval,
before dispatch; a shipment only records the carrier's own punctuality (``carrier_late``) against its J+n
level.

One code path moves a dossier on a carrier event: :func:`record_carrier_event`, used by the webhook and by the
simulated carrier, applies the lifecycle actions ``confirm_delivery`` / ``delivery_failed`` as the system
actor ``buudien``; the effects below (composed by :func:`service.bootstrap.compose_effects`) keep the shipment in
step with the dossier, whoever acts (a receiver may confirm or report a failed delivery by hand too).

Functions here never commit, except :func:`run_carrier` given a :class:`~service.db.Database`, which runs each
shipment in its own transaction.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from service.db import Database
from service.domain import postal
from service.domain.calendar import WorkingCalendar
from service.domain.legal_time import VN_TZ, to_legal_time, utc_now
from service.domain.lifecycle import SYSTEM_ROLE, Action, Notice
from service.domain.postal import EventKind, Origin, ServiceLevels, ShipmentStatus, Zone
from service.dossiers.actions import act
from service.dossiers.effects import EffectCall, Effects, Outcome
from service.errors import NotFound, ServiceUnavailable, Unprocessable
from service.models import Agency, Dossier, PostalEvent, Shipment, User
from service.operations.calendars import calendar_for

log = logging.getLogger("motcua.postal")

CARRIER_ACTOR = "buudien"
"""The actor name written on the control slip for events reported by the postal carrier."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the legal clock a carrier may date an event (the carrier's clock is not ours)."""
MAX_AGENCY_DEPTH = 6


class PostalConfig(BaseSettings):
    """``MOTCUA_POSTAL_SERVICE_LEVELS``, e.g.
    ``same_commune=1,same_province=2,special_cities=3,other_province=4`` (any subset; the defaults are
    Circular 17/2017/TT-BTTTT Art. 7's)."""

    model_config = SettingsConfigDict(env_prefix="MOTCUA_POSTAL_", extra="ignore")

    service_levels: str = ""


@lru_cache(maxsize=8)
def _parse_levels(spec: str) -> ServiceLevels:
    return ServiceLevels.from_spec(spec)


def service_levels() -> ServiceLevels:
    """The J+n levels in force (read from the environment on each dispatch, parsed once per value)."""
    spec = PostalConfig().service_levels
    try:
        return _parse_levels(spec)
    except ValueError as exc:
        log.error("MOTCUA_POSTAL_SERVICE_LEVELS is invalid: %s", exc)
        raise ServiceUnavailable(
            "Cấu hình thời gian chuyển phát (MOTCUA_POSTAL_SERVICE_LEVELS) không hợp lệ.",
            code="POSTAL_CONFIG_INVALID") from exc


def carrier_user(now: datetime) -> User:
    """The postal carrier as an actor: a transient ``User`` with the system role, never stored, so there is no
    account anyone could log in with. ``act`` only reads its name and role."""
    return User(username=CARRIER_ACTOR, full_name="Bưu điện (dịch vụ bưu chính công ích)", role=SYSTEM_ROLE,
                password_hash="!", active=False, created_at=now)


# ---------------------------------------------------------------- dispatch


def origin_of(session: Session, agency_code: str) -> Origin:
    """The agency's province and commune, read from its name and its parents' names."""
    names: list[str] = []
    code: str | None = agency_code
    while code and len(names) < MAX_AGENCY_DEPTH:
        agency = session.get(Agency, code)
        if agency is None:
            break
        names.append(agency.name)
        code = agency.parent_code
    return Origin.from_agency_names(names)


def new_tracking_number(session: Session, rng: random.Random | None = None) -> str:
    """A fresh S10 item number (``EB########cVN``), unique among stored shipments."""
    draw = rng.randrange if rng is not None else secrets.randbelow
    for _ in range(50):
        candidate = postal.make_tracking_number(draw(100_000_000))
        taken = session.exec(select(Shipment.id).where(Shipment.tracking_number == candidate)).first()
        if taken is None:
            return candidate
    raise ServiceUnavailable("Không cấp được số hiệu bưu gửi; vui lòng thử lại.",
                             code="TRACKING_NUMBER_EXHAUSTED")


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


@dataclass(frozen=True)
class Dispatch:
    """What ``dispatch_postal`` decides, without the database: the shipment's columns (all but ``id`` and
    ``dossier_id``), the applicant's notice and the control-slip data."""

    shipment: dict[str, Any]
    notice: Notice
    data: dict[str, Any]


def plan_dispatch(*, code: str, address: str | None, origin: Origin, body: Any, now: datetime,
                  calendar: WorkingCalendar, levels: ServiceLevels, tracking_number: str) -> Dispatch:
    """The result leaves the desk with the postal staff (J = today). The zone comes from ``delivery_zone`` or the
    delivery address; the postage is charged to the applicant (Decision 45/2016 Art. 12); the carrier's J+n
    level is Circular 17/2017/TT-BTTTT Art. 7's, doubled when an appointment slip travels back."""
    if not address:
        raise Unprocessable("Hồ sơ chưa có địa chỉ nhận kết quả qua bưu chính.",
                            code="DELIVERY_ADDRESS_REQUIRED")
    slip = bool(getattr(body, "appointment_slip", False))
    requested_zone = getattr(body, "delivery_zone", None)
    zone = Zone(requested_zone) if requested_zone else postal.classify_zone(address, origin)
    expected_by = postal.expected_delivery(calendar, now, zone, appointment_slip=slip, levels=levels)
    postage = postal.postage(zone, appointment_slip=slip)
    shipment = {"tracking_number": tracking_number, "status": ShipmentStatus.IN_TRANSIT.value,
                "address": address, "zone": zone.value, "postage_vnd": postage, "dispatched_at": now,
                "expected_by": expected_by, "delivered_at": None, "failed_at": None, "carrier_late": None}
    notice = Notice("Kết quả được chuyển phát qua bưu chính",
                    f"Kết quả hồ sơ {code} đã giao cho bưu điện, số hiệu bưu gửi {tracking_number}, dự kiến phát "
                    f"chậm nhất ngày {to_legal_time(expected_by):%d/%m/%Y}. Cước phí {_vnd(postage)} do người nhận "
                    "thanh toán.")
    data = {"shipment": {
        "tracking_number": tracking_number,
        "zone": zone.value,
        "service_level_days": levels.days(zone, appointment_slip=slip),
        "appointment_slip": slip,
        "expected_by": to_legal_time(expected_by).isoformat(),
        "postage_vnd": postage,
    }}
    return Dispatch(shipment, notice, data)


def create_shipment(call: EffectCall, *, levels: Callable[[], ServiceLevels],
                    tracking_numbers: Callable[[Session], str]) -> Outcome:
    """The effect of ``dispatch_postal``: the shipment row (see :func:`plan_dispatch`) and the applicant's
    notice."""
    session, dossier = call.session, call.dossier
    plan = plan_dispatch(code=dossier.code, address=dossier.delivery_address,
                         origin=origin_of(session, dossier.agency_code), body=call.body, now=call.now,
                         calendar=calendar_for(session), levels=levels(),
                         tracking_number=tracking_numbers(session))
    session.add(Shipment(dossier_id=dossier.id, **plan.shipment))  # type: ignore[arg-type]
    return Outcome(plan.data, (plan.notice,))


# ---------------------------------------------------------------- delivery outcomes (receiver or carrier)


def _open_shipment(session: Session, dossier: Dossier) -> Shipment | None:
    return session.exec(
        select(Shipment)
        .where(Shipment.dossier_id == dossier.id, Shipment.status == ShipmentStatus.IN_TRANSIT.value)
        .order_by(col(Shipment.id).desc()).with_for_update()
    ).first()


def _conclude(session: Session, dossier: Dossier, body: Any, now: datetime,
              status: ShipmentStatus) -> dict[str, Any]:
    shipment = _open_shipment(session, dossier)
    if shipment is None:
        return {}
    at = getattr(body, "at", None) or now
    changes, data = conclude_shipment(shipment.tracking_number, shipment.dispatched_at, shipment.expected_by,
                                      at=at, now=now, status=status)
    for name, value in changes.items():
        setattr(shipment, name, value)
    session.add(shipment)
    session.flush()
    return data


def conclude_shipment(tracking_number: str, dispatched_at: datetime, expected_by: datetime, *, at: datetime,
                      now: datetime, status: ShipmentStatus) -> tuple[dict[str, Any], dict[str, Any]]:
    """A shipment's outcome at ``at``: the columns that change and the control-slip data. The carrier is late
    when it delivers (or gives up) after its J+n level."""
    if at < dispatched_at:
        raise Unprocessable("Thời điểm phát không thể trước thời điểm giao bưu gửi cho bưu điện.",
                            code="POSTAL_EVENT_BEFORE_DISPATCH")
    if at > now + CLOCK_SKEW:
        raise Unprocessable("Thời điểm phát không thể sau thời điểm hiện tại.", code="POSTAL_EVENT_IN_FUTURE")
    late = at > expected_by
    changes = {"status": status.value, "carrier_late": late,
               "delivered_at" if status is ShipmentStatus.DELIVERED else "failed_at": at}
    return changes, {"shipment": {"tracking_number": tracking_number, "status": status.value,
                                  "at": to_legal_time(at).isoformat(), "carrier_late": late}}


def close_shipment_delivered(call: EffectCall) -> Outcome:
    """The effect of ``confirm_delivery``: the open shipment is delivered (at ``body.at``)."""
    return Outcome(_conclude(call.session, call.dossier, call.body, call.now, ShipmentStatus.DELIVERED))


def close_shipment_failed(call: EffectCall) -> Outcome:
    """The effect of ``delivery_failed``: the item goes back to the desk (Decision 45/2016 Art. 10); the decision
    itself carries the applicant's notice."""
    return Outcome(_conclude(call.session, call.dossier, call.body, call.now, ShipmentStatus.FAILED))


# ---------------------------------------------------------------- carrier events (webhook and simulator)

EventOutcome = Literal["applied", "duplicate", "ignored"]


@dataclass(frozen=True)
class EventResult:
    tracking_number: str
    event: str
    at: datetime
    outcome: EventOutcome
    shipment_status: str
    carrier_late: bool | None = None


EVENT_NOTES = {
    EventKind.DELIVERED: "Bưu điện báo phát thành công bưu gửi {tn}",
    EventKind.FAILED: "Bưu điện báo phát không thành công bưu gửi {tn}; kết quả chuyển về Bộ phận Một cửa, "
                      "đã thông báo cho người nộp hồ sơ",
}


def record_carrier_event(session: Session, *, tracking_number: str, event: EventKind | str, at: datetime,
                         now: datetime, effects: Effects, source: str = "webhook") -> EventResult:
    """Apply one carrier event, exactly once.

    * unknown tracking number: 404 ``SHIPMENT_NOT_FOUND``;
    * the same event again (same tracking number, event and instant): ``duplicate``, nothing changes;
    * an event for a shipment already delivered or failed (a late ``failed`` after ``delivered``, a second
      outcome): stored for the record, ``ignored``, nothing changes — the first outcome stands;
    * otherwise ``delivered`` → the dossier is ``returned``; ``failed`` → back to ``result_ready``, to be
      collected at the desk, the applicant notified.

    Rows are locked dossier first, then shipment (the order ``act`` uses), so concurrent deliveries of the
    same event serialise and the second one sees the first.
    """
    kind = EventKind(event)
    found = session.exec(select(Shipment.id, Shipment.dossier_id)
                         .where(Shipment.tracking_number == tracking_number)).first()
    if found is None:
        raise NotFound(f"Không tìm thấy bưu gửi số hiệu {tracking_number}.", code="SHIPMENT_NOT_FOUND")
    shipment_id, dossier_id = found
    dossier = session.exec(select(Dossier).where(Dossier.id == dossier_id).with_for_update()
                           .execution_options(populate_existing=True)).one()
    shipment = session.exec(select(Shipment).where(Shipment.id == shipment_id).with_for_update()
                            .execution_options(populate_existing=True)).one()
    key = postal.event_key(tracking_number, kind.value, at)
    if session.get(PostalEvent, key) is not None:
        return EventResult(tracking_number, kind.value, at, "duplicate", shipment.status,
                           shipment.carrier_late)
    outcome: EventOutcome = "ignored"
    if shipment.status == ShipmentStatus.IN_TRANSIT.value:
        action = Action.CONFIRM_DELIVERY if kind is EventKind.DELIVERED else Action.DELIVERY_FAILED
        act(session, user=carrier_user(now), dossier=dossier, action=action,
            payload={"at": to_legal_time(at).isoformat(), "note": EVENT_NOTES[kind].format(tn=tracking_number)},
            if_match=None, now=now, effects=effects, actor_role=SYSTEM_ROLE, actor_name=CARRIER_ACTOR)
        outcome = "applied"
    session.add(PostalEvent(key=key, shipment_id=shipment_id, tracking_number=tracking_number,
                            event=kind.value, at=at, outcome=outcome, source=source, received_at=now,
                            recorded_at=utc_now()))
    session.flush()
    return EventResult(tracking_number, kind.value, at, outcome, shipment.status, shipment.carrier_late)


# ---------------------------------------------------------------- the simulated carrier


@dataclass
class CarrierRun:
    """What one pass of the simulated carrier did."""

    delivered: int = 0
    failed: int = 0
    late: int = 0
    events: list[EventResult] = field(default_factory=list)


def _due_shipments(session: Session, now: datetime, limit: int | None) -> list[tuple[int, str]]:
    query = (select(Shipment.id, Shipment.tracking_number)
             .where(Shipment.status == ShipmentStatus.IN_TRANSIT.value, col(Shipment.expected_by) <= now)
             .order_by(col(Shipment.expected_by), col(Shipment.id)))
    if limit is not None:
        query = query.limit(limit)
    return [(row[0], row[1]) for row in session.exec(query)]


def _carry_one(session: Session, tracking_number: str, now: datetime, failure_rate: float, late_rate: float,
               rng: random.Random, effects: Effects) -> EventResult | None:
    shipment = session.exec(select(Shipment).where(Shipment.tracking_number == tracking_number)).first()
    if shipment is None or shipment.status != ShipmentStatus.IN_TRANSIT.value:
        return None
    kind, at = carrier_outcome(rng, calendar_for(session), shipment.dispatched_at, shipment.expected_by, now,
                               failure_rate=failure_rate, late_rate=late_rate)
    return record_carrier_event(session, tracking_number=tracking_number, event=kind, at=at, now=now,
                                effects=effects, source="simulator")


def carrier_outcome(rng: random.Random, calendar: WorkingCalendar, dispatched_at: datetime, expected_by: datetime,
                    now: datetime, *, failure_rate: float, late_rate: float) -> tuple[EventKind, datetime]:
    """What the simulated carrier reports for one item: failed with probability ``failure_rate``, else
    delivered; on a working day within its J+n level, or with probability ``late_rate`` after it."""
    kind = EventKind.FAILED if rng.random() < failure_rate else EventKind.DELIVERED
    late = rng.random() < late_rate
    return kind, postal.simulated_event_time(calendar, dispatched_at, expected_by, now, rng, late=late)


def run_carrier(db_or_session: Database | Session, now: datetime | None = None, failure_rate: float = 0.05,
                rng: random.Random | None = None, *, effects: Effects, late_rate: float = 0.0,
                limit: int | None = None) -> CarrierRun:
    """The simulated carrier: every shipment still in transit whose J+n level has passed
    (``expected_by <= now``) is delivered — or, with probability ``failure_rate``, fails — on a working day
    within its level, or, with probability ``late_rate``, after it (between ``expected_by`` and ``now``).
    Events go through :func:`record_carrier_event`, the webhook's own logic.

    Given a :class:`Session`, everything happens in the caller's transaction (``now`` is required); given a
    :class:`Database`, each shipment is its own transaction and ``now`` defaults to the legal clock. ``effects``
    are the app's (:func:`service.bootstrap.compose_effects`): the carrier's events close the shipments through
    them."""
    if not 0.0 <= failure_rate <= 1.0 or not 0.0 <= late_rate <= 1.0:
        raise ValueError("rates are probabilities between 0 and 1")
    rng = rng or random.Random()
    run = CarrierRun()

    def count(result: EventResult | None) -> None:
        if result is None or result.outcome != "applied":
            return
        run.events.append(result)
        run.late += bool(result.carrier_late)
        if result.event == EventKind.DELIVERED.value:
            run.delivered += 1
        else:
            run.failed += 1

    if isinstance(db_or_session, Session):
        if now is None:
            raise ValueError("now is required with a session")
        for _, tracking_number in _due_shipments(db_or_session, now, limit):
            count(_carry_one(db_or_session, tracking_number, now, failure_rate, late_rate, rng, effects))
    else:
        from service.clock import LegalClock

        with db_or_session.transaction(read_only=True) as session:
            now = now or LegalClock(simulation=True).now(session)
            due = _due_shipments(session, now, limit)
        for _, tracking_number in due:
            with db_or_session.transaction() as session:
                count(_carry_one(session, tracking_number, now, failure_rate, late_rate, rng, effects))
    return run


# ---------------------------------------------------------------- statistics


COUNT_FIELDS = ("dispatched", "delivered", "delivered_on_time", "delivered_late", "failed", "in_transit",
                "in_transit_overdue", "postage_vnd_total")


@dataclass(frozen=True)
class PostalStats:
    period_start: datetime
    period_end: datetime
    as_of: datetime
    rows: list[dict[str, Any]]
    total: dict[str, Any]


def _with_rate(counts: dict[str, Any]) -> dict[str, Any]:
    rate = postal.percentage(counts["delivered_on_time"], counts["delivered"])
    return {**counts, "carrier_on_time_rate": rate}


def postal_stats(session: Session, *, start: date, end: date, agency_code: str | None,
                 now: datetime) -> PostalStats:
    """Shipments dispatched from ``start`` 00:00 to the start of the day after ``end`` (local time), with
    their outcome as of the end of the period (as of now for a period that has not ended), by zone.

    ``delivered_late`` counts deliveries after the carrier's J+n level (``expected_by``);
    ``in_transit_overdue`` items still travelling past it; ``carrier_on_time_rate`` =
    100·on-time / delivered."""
    period_start = datetime.combine(start, time(0), tzinfo=VN_TZ)
    period_end = datetime.combine(end + timedelta(days=1), time(0), tzinfo=VN_TZ)
    as_of = min(period_end, now)
    delivered = and_(col(Shipment.delivered_at).is_not(None), col(Shipment.delivered_at) < as_of)
    failed = and_(col(Shipment.failed_at).is_not(None), col(Shipment.failed_at) < as_of)
    travelling = and_(~delivered, ~failed)

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(  # type: ignore[call-overload]
            Shipment.zone,
            func.count(),
            total(delivered),
            total(and_(delivered, col(Shipment.delivered_at) <= Shipment.expected_by)),
            total(and_(delivered, col(Shipment.delivered_at) > Shipment.expected_by)),
            total(failed),
            total(travelling),
            total(and_(travelling, col(Shipment.expected_by) < as_of)),
            func.coalesce(func.sum(Shipment.postage_vnd), 0),
        )
        .join(Dossier, col(Dossier.id) == Shipment.dossier_id)
        .where(col(Shipment.dispatched_at) >= period_start, col(Shipment.dispatched_at) < period_end)
        .group_by(Shipment.zone)
        .order_by(Shipment.zone)
    )
    if agency_code:
        query = query.where(Dossier.agency_code == agency_code)
    rows = []
    totals = dict.fromkeys(COUNT_FIELDS, 0)
    for zone, *values in session.exec(query):
        counts = dict(zip(COUNT_FIELDS, (int(v) for v in values), strict=True))
        for name, value in counts.items():
            totals[name] += value
        rows.append({"key": zone, "label": postal.ZONE_LABEL.get(zone, zone),  # type: ignore[call-overload]
                     **_with_rate(counts)})
    return PostalStats(period_start, period_end, as_of, rows, _with_rate(totals))
