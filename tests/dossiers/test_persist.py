"""``persist``: the one function that writes a change, tried with a writer that keeps rows in memory."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from service.domain import audit
from service.domain.calendar import VN_TZ
from service.domain.lifecycle import DossierState, Notice, Status
from service.dossiers.persist import Change, persist
from service.dossiers.slip import NO_ROWS, SlipHead, SlipRow, slip_content

AT = datetime(2026, 3, 2, 9, 0, tzinfo=VN_TZ)
RECORDED = datetime(2026, 3, 2, 2, 0, 5, tzinfo=UTC)
STATE = DossierState(status=Status.RECEIVED, channel="counter", result_delivery="counter", service_level=3,
                     supplement_policy="restart", processing_value=3, processing_unit="working_days",
                     due_at=datetime(2026, 3, 5, 9, 0, tzinfo=VN_TZ))


@dataclass
class Dossier:
    id: int = 7
    code: str = "000.00.61.H49-260302-0001"
    agency_code: str = "000.00.61.H49"
    procedure_code: str = "1.001612.000.00.00.H49"
    applicant_phone: str | None = "0912345678"
    applicant_national_id: str = "022090001234"
    state: DossierState = STATE
    columns: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    head: SlipHead = NO_ROWS


class MemoryWriter:
    def __init__(self) -> None:
        self.slip: list[SlipRow] = []
        self.notifications: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def head(self, dossier: Dossier) -> SlipHead:
        return dossier.head

    def write_dossier(self, dossier: Dossier, change: Change) -> None:
        dossier.state = change.state
        dossier.columns.update(change.columns)
        dossier.version += change.bump_version

    def write_notification(self, dossier: Dossier, values: dict[str, Any]) -> None:
        self.notifications.append(values)

    def write_slip_row(self, dossier: Dossier, row: SlipRow) -> None:
        dossier.head = row.head
        self.slip.append(row)

    def recorded_at(self) -> datetime:
        return RECORDED

    def applicant_email(self, dossier: Dossier) -> str | None:
        return None

    def write_event(self, dossier: Dossier, values: dict[str, Any]) -> None:
        self.events.append(values)


def change(action: str, state: DossierState, **more: Any) -> Change:
    return Change(action=action, actor="tiepnhan", actor_role="receiver", from_status=Status.RECEIVED.value, at=AT,
                  state=state, **more)


def test_rows_are_chained_and_hash_what_the_verifier_reads() -> None:
    dossier, writer = Dossier(), MemoryWriter()
    persist(writer, dossier, change("receive", STATE, note="Tiếp nhận", bump_version=False))
    processing = replace(STATE, status=Status.PROCESSING)
    persist(writer, dossier, change("assign", processing, data={"assignee": "chuyenvien"},
                                    columns={"assignee_id": 3}))
    first, second = writer.slip
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == audit.GENESIS and second.prev_hash == first.hash
    assert audit.verify_chain((slip_content(dossier.code, r), r.prev_hash, r.hash) for r in writer.slip)
    assert (second.from_status, second.to_status, second.due_at) == ("received", "processing", STATE.due_at)
    assert second.recorded_at == RECORDED and second.data == {"assignee": "chuyenvien"}
    assert dossier.version == 2 and dossier.columns == {"assignee_id": 3} and dossier.state == processing
    # one event per slip row, written by the same call
    assert len(writer.events) == len(writer.slip) == 2


def test_a_changed_row_no_longer_verifies() -> None:
    dossier, writer = Dossier(), MemoryWriter()
    persist(writer, dossier, change("receive", STATE, note="Tiếp nhận"))
    row = writer.slip[0]._replace(note="Tiếp nhận (sửa)")
    assert not audit.verify_chain([(slip_content(dossier.code, row), row.prev_hash, row.hash)])


def test_notices_go_by_sms_or_to_the_portal_inbox() -> None:
    notice = Notice("Hồ sơ đã có kết quả", "Hồ sơ đã có kết quả giải quyết.")
    with_phone, without_phone, writer = Dossier(), Dossier(applicant_phone=None), MemoryWriter()
    for dossier in (with_phone, without_phone):
        persist(writer, dossier, change("approve", STATE, notices=(notice,)))
    assert [(n["channel"], n["recipient"]) for n in writer.notifications] == [
        ("sms", "0912345678"), ("portal", "022090001234")]
    assert all(n["at"] == AT and n["subject"] == notice.subject for n in writer.notifications)
