"""The postal carrier's webhook and the carrier's punctuality statistics (Decision 45/2016/QĐ-TTg)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from service.deps import ContextDep, NowDep, SessionDep, StaffUser
from service.domain.periods import check_period
from service.domain.postal import verify_signature
from service.errors import ServiceUnavailable, Unauthorized
from service.operations import postal
from service.operations.statistics import scope_for
from service.routers.statistics import PeriodDep
from service.schemas.common import AgencyCode, ApiModel, LocalDateTime, Problem, RequestDateTime
from service.validation import parse_body

router = APIRouter(tags=["postal"])

SIGNATURE_HEADER = "X-Postal-Signature"


class PostalEventIn(ApiModel):
    """An event reported by the carrier, signed with ``X-Postal-Signature: sha256=<hex HMAC-SHA256 of the raw
    body with MOTCUA_POSTAL_WEBHOOK_SECRET>``."""

    tracking_number: Annotated[str, Field(min_length=1, max_length=32, examples=["EB123456785VN"])]
    event: Literal["delivered", "failed"]
    at: RequestDateTime


class PostalEventOut(BaseModel):
    tracking_number: str
    event: str
    at: LocalDateTime
    outcome: Literal["applied", "duplicate", "ignored"] = Field(
        description="applied: the dossier moved; duplicate: this event was already received; ignored: the "
                    "shipment had already been delivered or returned to the desk, the first outcome stands")
    shipment_status: str


async def signed_event(
    request: Request, context: ContextDep,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> PostalEventIn:
    """Check the signature over the raw bytes, before any JSON parsing and before a transaction is opened."""
    secret = context.settings.postal_webhook_secret
    if not secret:
        raise ServiceUnavailable("Cổng nhận thông báo của bưu điện chưa được cấu hình.",
                                 code="POSTAL_WEBHOOK_DISABLED")
    raw = await request.body()
    if not verify_signature(secret, raw, signature):
        raise Unauthorized("Chữ ký X-Postal-Signature không hợp lệ.", code="INVALID_SIGNATURE",
                           headers={"WWW-Authenticate": f'HMAC-SHA256 header="{SIGNATURE_HEADER}"'})
    return parse_body(PostalEventIn, raw, raw_json=True)


_EVENT_BODY = {
    "required": True,
    "content": {"application/json": {"schema": PostalEventIn.model_json_schema()}},
}


@router.post(
    "/postal/events",
    openapi_extra={"requestBody": _EVENT_BODY},
    responses={code: {"model": Problem} for code in (401, 404, 409, 422, 503)},
)
def receive_postal_event(
    event: Annotated[PostalEventIn, Depends(signed_event)], session: SessionDep, now: NowDep, context: ContextDep,
) -> PostalEventOut:
    """The carrier's webhook (no token: the body is signed). ``delivered`` → the dossier is returned;
    ``failed`` → the result is back at the desk and the applicant is notified. A repeated event answers 200
    and changes nothing; an event after the shipment's outcome (a late ``failed`` after ``delivered``) is
    kept on record and changes nothing. Unknown tracking number: 404."""
    result = postal.record_carrier_event(session, tracking_number=event.tracking_number, event=event.event,
                                         at=event.at, now=now, effects=context.effects)
    return PostalEventOut(tracking_number=result.tracking_number, event=result.event, at=result.at,
                          outcome=result.outcome, shipment_status=result.shipment_status)


# ---------------------------------------------------------------- statistics


class PostalCounts(BaseModel):
    dispatched: int
    delivered: int
    delivered_on_time: int
    delivered_late: int = Field(description="Delivered after the carrier's J+n level (expected_by)")
    failed: int
    in_transit: int
    in_transit_overdue: int = Field(description="Still travelling past the carrier's J+n level")
    postage_vnd_total: int
    carrier_on_time_rate: float | None = Field(description="100·delivered_on_time/delivered, 2 decimals")


class PostalRow(PostalCounts):
    key: str
    label: str


class PostalStatsOut(BaseModel):
    period_start: LocalDateTime
    period_end: LocalDateTime
    as_of: LocalDateTime
    agency_code: str | None
    rows: list[PostalRow]
    total: PostalCounts
    notes: list[str]


NOTES = [
    "Bưu gửi được tính theo ngày giao cho bưu điện (dispatched_at) trong kỳ; kết quả phát tính đến cuối kỳ.",
    "Chỉ tiêu toàn trình J+n theo Thông tư 17/2017/TT-BTTTT Điều 7: nội xã/phường J+1, nội tỉnh J+2, "
    "giữa các thành phố trực thuộc trung ương J+3, liên tỉnh J+4 (gấp đôi khi phải chuyển trả giấy hẹn).",
    "Thời gian chuyển phát không tính vào thời hạn giải quyết hồ sơ của cơ quan (Quyết định 45/2016/QĐ-TTg).",
]


@router.get("/stats/postal", tags=["statistics"],
            responses={code: {"model": Problem} for code in (401, 403, 404, 422)})
def postal_statistics(
    user: StaffUser, session: SessionDep, now: NowDep, span: PeriodDep,
    agency_code: Annotated[AgencyCode | None, Query()] = None,
) -> PostalStatsOut:
    """The carrier's punctuality against its J+n levels, by zone (admin: any agency or all; staff: their
    agency). A report for a past period never changes when later events happen. The period is ``from``/``to``
    or ``period`` + ``year`` (+ ``quarter``/``month``), as on every statistics path."""
    from_, to = span.first, span.last
    check_period(from_, to)
    agency_code = scope_for(session, user, agency_code)
    stats = postal.postal_stats(session, start=from_, end=to, agency_code=agency_code, now=now)
    rows: list[Any] = [PostalRow(**row) for row in stats.rows]
    return PostalStatsOut(period_start=stats.period_start, period_end=stats.period_end, as_of=stats.as_of,
                          agency_code=agency_code, rows=rows, total=PostalCounts(**stats.total), notes=NOTES)
