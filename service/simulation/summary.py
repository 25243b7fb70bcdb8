"""The end-of-run summary, read back from the database through the statistics services.

* dossiers by status;
* the processing report (:func:`service.operations.statistics.processing_report`) for the simulated period, as
  of its end: received by channel, resolved early / on time / late, in progress, paused, withdrawn, the
  on-time and online rates — and the report invariant ``received + carried over = resolved + in progress +
  paused + withdrawn`` checked on every row, per agency and per month;
* the service index, portal scheme (:func:`service.operations.statistics.service_index`);
* the five slowest procedures (mean time from receipt to result, against the time allowed);
* how fast the run went, and whether results were signed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlmodel import Session

from service.db import Database, UTCDateTime
from service.domain.lifecycle import STATUS_LABEL, Status
from service.domain.roles import Role
from service.domain.statistics import ProcessingCounts
from service.models import Dossier, DossierEvent, Procedure, Rating, Shipment, User
from service.operations import statistics as stats_ops
from service.simulation.engine import RunResult

D = Dossier.__table__  # type: ignore[attr-defined]


@dataclass
class SlowProcedure:
    code: str
    name: str
    resolved: int
    mean_days: float
    allowed_days: float
    on_time_rate: float | None


@dataclass
class Summary:
    scenario: str
    title: str
    seed: int
    first_day: str
    last_day: str
    as_of: str
    database: str
    statuses: dict[str, int]
    total: dict[str, Any]
    invariant_holds: bool
    invariant_failures: list[str]
    index_score: float | None
    indicators: dict[str, float | None]
    index_score_766: float | None
    indicators_766: dict[str, float | None]
    uploads: int
    slowest: list[SlowProcedure]
    submitted: int
    expected: float
    events: int
    actions: int
    refused_by_rules: int
    assisted: int
    ratings: int
    dissatisfied: int
    shipments: int
    carrier_delivered: int
    carrier_failed: int
    carrier_late: int
    staff: dict[str, dict[str, int]]
    signing: str
    skipped_effects: list[str]
    seconds: float
    setup_seconds: float
    transactions: int
    dossiers_per_second: float
    actions_per_second: float
    limited: bool
    months: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    """Inter-agency steps per agency that held them (where time was lost): ended in the period (late among them)
    and held at its end (overdue among them)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _reporter(now: datetime) -> User:
    """An admin-role reader for the statistics services (never stored)."""
    return User(username="simulator", full_name="Trình mô phỏng", role=Role.ADMIN, password_hash="!",
                active=False, created_at=now)


def _seconds(later: Any, earlier: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _check(label: str, counts: ProcessingCounts, failures: list[str]) -> None:
    if not counts.invariant_holds():
        failures.append(f"{label}: received {counts.received_total} + carried {counts.carried_over} "
                        f"≠ resolved {counts.resolved_total} + in progress {counts.in_progress_total} "
                        f"+ paused {counts.paused} + withdrawn {counts.withdrawn} "
                        f"(unclassified {counts.unclassified})")


def slowest_procedures(session: Session, start: datetime, cut: datetime, n: int = 5) -> list[SlowProcedure]:
    """The ``n`` procedures whose dossiers resolved in the period took longest on average (receipt to result),
    with the time they were allowed (to the original due date) and their on-time rate."""
    dialect = session.get_bind().dialect.name
    s, c = literal(start, UTCDateTime), literal(cut, UTCDateTime)
    resolved = and_(D.c.finished_at.is_not(None), D.c.finished_at >= s, D.c.finished_at < c)
    on_time = func.sum(case((D.c.timeliness.in_(("early", "on_time")), 1), else_=0))
    rows = session.execute(
        select(D.c.procedure_code, func.count(),
               func.avg(_seconds(D.c.finished_at, D.c.received_at, dialect)),
               func.avg(_seconds(func.coalesce(D.c.original_due_at, D.c.due_at), D.c.received_at, dialect)),
               on_time)
        .where(resolved).group_by(D.c.procedure_code)
    ).all()
    names = dict(session.execute(select(Procedure.code, Procedure.name)).all())  # type: ignore[call-overload]
    out = [SlowProcedure(code, names.get(code, code), int(count), round(float(mean or 0) / 86400, 2),
                         round(float(allowed or 0) / 86400, 2),
                         round(100 * int(ok) / int(count), 2) if count else None)
           for code, count, mean, allowed, ok in rows]
    out.sort(key=lambda p: (-p.mean_days, p.code))
    return out[:n]


@dataclass
class Statistics:
    """What the summary reads back from the database (:func:`read_statistics`)."""

    report: stats_ops.ProcessingReport
    months: stats_ops.ProcessingReport
    index: dict[str, Any]
    index_766: dict[str, Any]
    statuses: dict[str, int]
    events: int
    dissatisfied: int
    shipments: int
    slowest: list[SlowProcedure]


def read_statistics(db: Database, run: RunResult) -> Statistics:
    """Read the statistics of ``run``'s period back from the database (as of the period end). Needs only the
    run's period, not its counts: :func:`service.simulation.shards.simulate_and_read` calls it while the bulk
    tables' indexes are rebuilt."""
    first, last, end = run.first_day, run.last_day, run.end
    with db.transaction(read_only=True) as session:
        reader = _reporter(end)
        report = stats_ops.processing_report(session, user=reader, first=first, last=last, agency_code=None,
                                             group_by="agency", now=end)
        months = stats_ops.processing_report(session, user=reader, first=first, last=last, agency_code=None,
                                             group_by="month", now=end)
        _, _, index = stats_ops.service_index(session, user=reader, first=first, last=last, agency_code=None,
                                              now=end)
        _, _, index_766 = stats_ops.service_index(session, user=reader, first=first, last=last, agency_code=None,
                                                  now=end, scheme="qd766-2022")
        statuses = {status: count for status, count in session.execute(
            select(D.c.status, func.count()).group_by(D.c.status).order_by(D.c.status)).all()}
        events = session.execute(select(func.count()).select_from(DossierEvent)).scalar_one()
        dissatisfied = session.execute(select(func.count()).select_from(Rating)
                                       .where(Rating.satisfied.is_(False))).scalar_one()  # type: ignore[attr-defined]
        shipments = session.execute(select(func.count()).select_from(Shipment)).scalar_one()
        window = report.window
        slowest = slowest_procedures(session, window.start, window.cut)
    return Statistics(report, months, index, index_766, statuses, int(events), int(dissatisfied), int(shipments),
                      slowest)


def summarize(db: Database, run: RunResult, statistics: Statistics | None = None) -> Summary:
    """The summary of ``run``: its counts and timing, and the statistics of its period read back from the
    database (``statistics``, when already read by :func:`read_statistics`)."""
    first, last, end = run.first_day, run.last_day, run.end
    read = read_statistics(db, run) if statistics is None else statistics
    report, months, index, index_766, statuses = read.report, read.months, read.index, read.index_766, read.statuses
    events, dissatisfied, shipments, slowest = read.events, read.dissatisfied, read.shipments, read.slowest
    failures: list[str] = []
    for row in report.rows:
        _check(f"agency {row.key}", row.counts, failures)
    _check("total", report.total, failures)
    for row in months.rows:
        _check(f"month {row.key}", row.counts, failures)
    _check("months total", months.total, failures)
    indicators = _indicators(index)
    indicators_766 = _indicators(index_766)
    return Summary(
        scenario=run.scenario.name, title=run.scenario.title, seed=run.seed, first_day=first.isoformat(),
        last_day=last.isoformat(), as_of=end.isoformat(), database=run.dialect,
        statuses={s.value: statuses.get(s.value, 0) for s in Status if statuses.get(s.value, 0)},
        total={**report.total.as_dict(), "unclassified": report.total.unclassified},
        invariant_holds=not failures, invariant_failures=failures,
        index_score=index["score_total"], indicators=indicators,  # type: ignore[arg-type]
        index_score_766=index_766["score_total"], indicators_766=indicators_766,  # type: ignore[arg-type]
        uploads=run.uploads,
        slowest=slowest, submitted=run.submitted, expected=round(run.expected, 1), events=int(events),
        actions=run.actions, refused_by_rules=run.refused_by_rules, assisted=run.assisted,
        ratings=run.ratings, dissatisfied=int(dissatisfied), shipments=int(shipments),
        carrier_delivered=run.carrier_delivered, carrier_failed=run.carrier_failed,
        carrier_late=run.carrier_late, staff=run.staff, signing=run.signing, skipped_effects=run.skipped_effects,
        seconds=round(run.seconds, 2), setup_seconds=round(run.setup_seconds, 2),
        transactions=run.transactions, dossiers_per_second=round(run.dossiers_per_second, 1),
        actions_per_second=round(run.actions_per_second, 1), limited=run.limited,
        months=[{"month": r.key, **r.counts.as_dict()} for r in months.rows],
        steps=[{"agency": r.key, "name": r.label, **r.steps.as_dict()} for r in report.rows
               if r.steps is not None and any(r.steps.as_dict().values())],
    )


def _indicators(index: dict[str, Any]) -> dict[str, float | None]:
    return {indicator["code"]: indicator["value"] for group in index["groups"] for indicator in group["indicators"]}


def _step_lines(s: Summary) -> list[str]:
    """Where the inter-agency dossiers lost time: each agency's steps, late ones first."""
    if not s.steps:
        return []
    return [
        "Bước liên thông theo cơ quan thực hiện (nơi chậm trễ):",
        *(f"  {row['name']} [{row['agency']}]: kết thúc {row['step_resolved_total']:,} bước "
          f"(quá hạn {row['step_resolved_late']:,}; "
          f"{_pct(_share(row['step_resolved_late'], row['step_resolved_total']))}); "
          f"đang giữ {row['step_in_progress_total']:,} (quá hạn {row['step_in_progress_overdue']:,})"
          for row in sorted(s.steps, key=lambda r: (-r["step_resolved_late"], r["agency"]))),
        "",
    ]


def _share(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} %"


def render(s: Summary) -> str:
    """The summary as text for the console (Vietnamese labels, as the report it mirrors)."""
    t = s.total
    lines = [
        "",
        f"Kịch bản {s.scenario} — {s.title}".rstrip(" —"),
        f"  Hạt giống (seed) {s.seed}; kỳ {s.first_day} → {s.last_day}; số liệu tính đến {s.as_of}; "
        f"CSDL {s.database}"
        + ("; chạy rút gọn (--limit)" if s.limited else ""),
        "  Cán bộ: " + "; ".join(f"{code} tiếp nhận {v['receiver']}, xử lý {v['processor']}, phê duyệt "
                                  f"{v['approver']}" for code, v in s.staff.items()),
        "",
        f"Hồ sơ đã nộp: {s.submitted:,} (kỳ vọng ≈ {s.expected:,.0f}); có hỗ trợ của Tổ công nghệ số "
        f"cộng đồng: {s.assisted:,}; thành phần hồ sơ được số hóa (tải lên): {s.uploads:,}",
        "Hồ sơ theo trạng thái:",
        *(f"  {STATUS_LABEL[Status(k)]:<34} {k:<20} {v:>9,}" for k, v in s.statuses.items()),
        "",
        "Báo cáo tình hình giải quyết hồ sơ (cả kỳ):",
        f"  Tiếp nhận mới {t['received_total']:,} (trực tuyến {t['received_online']:,}, trực tiếp "
        f"{t['received_counter']:,}, bưu chính {t['received_postal']:,}); kỳ trước chuyển qua "
        f"{t['carried_over']:,}",
        f"  Đã giải quyết {t['resolved_total']:,} (trước hạn {t['resolved_early']:,}, đúng hạn "
        f"{t['resolved_on_time']:,}, quá hạn {t['resolved_late']:,})",
        f"  Đang giải quyết {t['in_progress_total']:,} (trong hạn {t['in_progress_on_track']:,}, quá hạn "
        f"{t['in_progress_overdue']:,}); tạm dừng {t['paused']:,}; rút {t['withdrawn']:,}",
        f"  Tỷ lệ đúng hạn: {_pct(t['on_time_rate'])}    Tỷ lệ trực tuyến: {_pct(t['online_rate'])}",
        "  Bất biến báo cáo (tiếp nhận + chuyển qua = giải quyết + đang giải quyết + tạm dừng + rút), "
        "mọi dòng theo cơ quan và theo tháng: " + ("ĐÚNG" if s.invariant_holds else "SAI"),
        *(f"    ✗ {f}" for f in s.invariant_failures),
        "",
        f"Chỉ số phục vụ (thang của Cổng Dịch vụ công quốc gia, 6 nhóm): "
        f"{s.index_score if s.index_score is not None else '—'} / 100",
        "  " + "; ".join(f"{code}: {'—' if v is None else v}" for code, v in s.indicators.items()),
        f"Chỉ số phục vụ (Quyết định 766/QĐ-TTg, 5 nhóm): "
        f"{s.index_score_766 if s.index_score_766 is not None else '—'} / 100",
        "  " + "; ".join(f"{code}: {'—' if v is None else v}" for code, v in s.indicators_766.items()),
        "",
        *_step_lines(s),
        "Năm thủ tục giải quyết chậm nhất (bình quân từ tiếp nhận đến có kết quả):",
        *(f"  {p.mean_days:>6.2f} ngày (được phép {p.allowed_days:.2f}; đúng hạn {_pct(p.on_time_rate)}; "
          f"{p.resolved:,} hồ sơ)  {p.name} [{p.code}]" for p in s.slowest),
        "",
        f"Đánh giá: {s.ratings:,} lượt ({s.dissatisfied:,} không hài lòng). Bưu chính: {s.shipments:,} bưu "
        f"gửi, phát thành công {s.carrier_delivered:,}, không thành công {s.carrier_failed:,}, trễ J+n "
        f"{s.carrier_late:,}.",
    ]
    if s.signing == "skipped":
        lines.append("Kết quả giải quyết KHÔNG được ký số trong lần chạy này (bỏ qua "
                     + ", ".join(s.skipped_effects) + "); dùng --sign-results để ký (chậm, ~0,1 s mỗi hồ sơ; "
                     "cho kịch bản nhỏ).")
    elif s.signing == "none":
        lines.append("Kết quả giải quyết không được ký số: chưa có bước ký số nào gắn với thao tác "
                     "phê duyệt.")
    else:
        lines.append("Kết quả giải quyết đã được ký số (--sign-results).")
    lines += [
        "",
        f"Hiệu năng: {s.submitted:,} hồ sơ, {s.actions:,} thao tác, {s.events:,} dòng phiếu kiểm soát trong "
        f"{s.seconds:,.1f} s (+{s.setup_seconds:.1f} s chuẩn bị), {s.transactions:,} giao dịch — "
        f"{s.dossiers_per_second:,.1f} hồ sơ/s, {s.actions_per_second:,.0f} thao tác/s; "
        f"{s.refused_by_rules:,} thao tác bị quy tắc từ chối (cán bộ xử lý tiếp).",
    ]
    return "\n".join(lines)
