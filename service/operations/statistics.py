"""Statistics queries: the processing report and the Decision 766 index, computed as of the period end.

How the report stays exact for any past period
----------------------------------------------
A dossier's ``received_at``, ``finished_at``, ``withdrawn_at`` and ``timeliness`` are written once and never
change, so the flows of a period (received, resolved, withdrawn) and the carried-over stock are read from
them. What a dossier *was* at the period end (running or paused, and its due instant then) is read from the
control slip: the last ``dossier_event`` recorded before the cut carries ``to_status`` and a ``due_at``
snapshot. Later events therefore never change the report of a past period.

Cost
----
One statement, so one snapshot, of two parts, over the period's dossiers only — received since
``LONG_RUNNING_DAYS`` before the start (``ix_dossier_received_at``) or, earlier and still open at the start,
in the partial index ``ix_dossier_long_running`` (:func:`period_dossiers`):

* the *cells*: one aggregate pass. For a one-slice report the margins per group key, channel and timeliness
  (received, carried over, resolved, withdrawn) are counted with ``FILTER``; by month a ``CASE`` over the
  slice boundaries numbers the slice each dossier was received in and ended in;
* the *states*: the dossiers open at a slice cut (a few percent) and ever paused or re-scheduled get their
  state then from the last event before the cut — one backward probe of the ``(dossier_id, seq)`` unique
  index each; the others ran all along with the due instant they have now.

All the counting happens in SQL; Python only adds up the aggregated rows per slice
(:func:`service.domain.statistics.assemble_period` / :func:`~service.domain.statistics.assemble`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    Integer,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from service.db import UTCDateTime
from service.domain import service_index as index
from service.domain import statistics as stats
from service.domain.periods import check_period
from service.domain.roles import STAFF_ROLES, Role
from service.domain.service_index import IndexInputs
from service.domain.statistics import GroupBy, ProcessingCounts, Slice, Window
from service.domain.steps import StepCounts
from service.errors import ForbiddenRole, NotFound, Unprocessable
from service.models import (
    Agency,
    Dossier,
    DossierEvent,
    Procedure,
    Rating,
    ResultDocument,
    User,
)
from service.models.dossier import LONG_RUNNING_DAYS, LONG_RUNNING_WHERE
from service.operations import interagency

AgencyScope = str | Sequence[str] | None
"""One agency, a list of agencies, or all (``None``)."""

D = Dossier.__table__  # type: ignore[attr-defined]
E = DossierEvent.__table__  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------- scope


def scope_for(session: Session, user: User, agency_code: str | None) -> str | None:
    """The agency a report is restricted to — the one staff scope check of every report (processing,
    index, postal): staff see only their own agency, admins any or all (404 for an unknown agency); citizens
    may not read statistics (403)."""
    if user.role == Role.CITIZEN:
        raise ForbiddenRole("Công dân không được xem số liệu thống kê.")
    if user.role in STAFF_ROLES:
        if agency_code is not None and agency_code != user.agency_code:
            raise ForbiddenRole("Cán bộ chỉ được xem số liệu thống kê của cơ quan mình.")
        return user.agency_code
    if agency_code is not None and session.get(Agency, agency_code) is None:
        raise NotFound(f"Không tìm thấy cơ quan có mã {agency_code}.", code="AGENCY_NOT_FOUND")
    return agency_code


def window_for(first: date, last: date, now: datetime) -> Window:
    check_period(first, last, max_days=stats.MAX_PERIOD_DAYS)
    return stats.report_window(first, last, now)


# ------------------------------------------------------------------------------------------------- SQL pieces


def _tune(session: Session) -> None:
    """PostgreSQL, for this transaction only: no JIT (the estimated cost of the correlated probes makes the
    JIT compile for seconds what runs in milliseconds) and room for the aggregate and the materialised CTE."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def _instant(value: datetime) -> ColumnElement[Any]:
    return literal(value, UTCDateTime)


def _slice_index(column: ColumnElement[Any], bounds: Sequence[datetime]) -> ColumnElement[int]:
    """``-1`` before ``bounds[0]``, ``i`` in ``[bounds[i], bounds[i+1])``, ``len(bounds) - 1`` at or after
    the last bound or when NULL."""
    whens = [(column < _instant(bounds[0]), -1)]
    whens += [(column < _instant(b), i) for i, b in enumerate(bounds[1:])]
    return case(*whens, else_=len(bounds) - 1)


def _open_at_start(start: datetime) -> ColumnElement[bool]:
    """Not ended (resolved or withdrawn) before ``start``."""
    return and_(
        or_(D.c.finished_at.is_(None), D.c.finished_at >= _instant(start)),
        or_(D.c.withdrawn_at.is_(None), D.c.withdrawn_at >= _instant(start)),
    )


def period_dossiers(dialect: str, start: datetime, cut: datetime, agencies: AgencyScope,
                    columns: Sequence[ColumnElement[Any]], where: ColumnElement[bool] | None = None) -> Any:
    """``columns`` of the period's dossiers — received before ``cut`` and not ended before ``start`` — as a
    ``UNION ALL`` of two index range scans, so the cost follows the period, not the table:

    * received since ``LONG_RUNNING_DAYS`` before the start (``ix_dossier_received_at``);
    * received earlier, and then still open at the start: such a dossier is open now or was open for more than
      ``LONG_RUNNING_DAYS``, so it is in the partial index ``ix_dossier_long_running`` (whose predicate is
      repeated verbatim so that both databases use it).
    """
    lookback = start - timedelta(days=LONG_RUNNING_DAYS)
    common = and_(D.c.received_at < _instant(cut), _open_at_start(start), where if where is not None else true())
    recent = select(*columns).where(D.c.received_at >= _instant(lookback), _scope(agencies), common)
    # SQLite's planner, given an agency scope, chose ``ix_dossier_agency_code_received_at`` for the older branch
    # once the table was large (a range over every earlier dossier of those agencies: the monthly ranking took
    # 0.15 s at 100k dossiers and 5.1 s at 1M); the scope written as an expression (``agency_code || ''``)
    # cannot constrain an index, which leaves it the partial index.
    older_agency = D.c.agency_code + "" if dialect == "sqlite" else D.c.agency_code
    older = select(*columns).where(D.c.received_at < _instant(lookback), text(LONG_RUNNING_WHERE[dialect]),
                                   _agency_filter(older_agency, agencies), common)
    return union_all(recent, older)


def _open_at(cut: datetime) -> ColumnElement[bool]:
    return and_(
        D.c.received_at < _instant(cut),
        or_(D.c.finished_at.is_(None), D.c.finished_at >= _instant(cut)),
        or_(D.c.withdrawn_at.is_(None), D.c.withdrawn_at >= _instant(cut)),
    )


def _marked(source: Any) -> ColumnElement[bool]:
    """Whether a dossier was ever paused or re-scheduled: the marks those steps leave for good
    (:func:`service.domain.statistics.unmarked`)."""
    return or_(source.supplement_count > 0, source.extension_count > 0,
               source.payment_amount_vnd.is_not(None))


def _state_at(dossier_id: ColumnElement[Any], cut: datetime, as_of: datetime) -> ColumnElement[str]:
    """The state of a received, unfinished dossier at ``cut``, from the last control-slip row recorded before
    it: ``paused`` (awaiting supplement or payment), ``overdue`` (its due instant then had passed at
    ``as_of``) or ``on_track``. NULL when no row precedes the cut."""
    return (
        select(case(
            (E.c.to_status.in_(stats.PAUSED_STATUSES), literal(stats.PAUSED_STATE)),
            (E.c.due_at < _instant(as_of), literal(stats.OVERDUE_STATE)),
            else_=literal(stats.ON_TRACK_STATE),
        ))
        .where(E.c.dossier_id == dossier_id, E.c.at < _instant(cut))
        .order_by(E.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


def _group_key(group_by: GroupBy) -> ColumnElement[str]:
    if group_by == "agency":
        return D.c.agency_code  # type: ignore[no-any-return]
    if group_by == "procedure":
        return D.c.procedure_code  # type: ignore[no-any-return]
    if group_by == "channel":
        return D.c.channel  # type: ignore[no-any-return]
    if group_by == "service_level":
        return cast(D.c.service_level, String)
    return literal("", String)


def _agency_filter(column: ColumnElement[Any], agencies: AgencyScope) -> ColumnElement[bool]:
    if agencies is None:
        return true()
    if isinstance(agencies, str):
        return column == agencies
    return column.in_(list(agencies)) if agencies else false()


def _scope(agencies: AgencyScope) -> ColumnElement[bool]:
    return _agency_filter(D.c.agency_code, agencies)


# ---------------------------------------------------------------------------------------------------- report


def processing_counts(
    session: Session, slices: Sequence[Slice], group_by: GroupBy, agency_code: AgencyScope,
) -> dict[tuple[str, int], ProcessingCounts]:
    """Counts per (group key, slice index), in one SQL statement (so one snapshot).

    *Cells*: one pass over the period's dossiers aggregates them by group key, channel, the slice they were
    received in (``-1`` before the period) and the slice they ended in, with how they ended. For a single
    slice (every grouping but ``month``) the margins suffice — received, carried over, resolved, withdrawn —
    counted with ``FILTER`` per raw group key, channel and timeliness, which PostgreSQL aggregates in parallel
    about twice as fast as computed slice numbers; for months, ``CASE`` expressions number the slices.
    *States*: the dossiers open at a slice cut (a few percent) get their state then from the control slip,
    one backward probe of ``uq_dossier_event_dossier_id_seq`` each — except those never paused nor
    re-scheduled, whose state follows from their unchanged due instant."""
    dialect = session.get_bind().dialect.name
    _tune(session)
    bounds = stats.boundaries(slices)
    key = _group_key(group_by)
    if len(slices) == 1:
        start, cut = _instant(bounds[0]), _instant(bounds[1])
        flat = period_dossiers(dialect, bounds[0], bounds[1], agency_code, [
            key.label("key"), D.c.channel.label("channel"), D.c.timeliness.label("timeliness"),
            D.c.received_at.label("received_at"), D.c.finished_at.label("finished_at"),
            D.c.withdrawn_at.label("withdrawn_at"),
        ]).subquery("flat")
        f = flat.c
        # Grouped by raw columns (about 100 groups), so PostgreSQL aggregates in parallel workers.
        cells = select(
            literal("margin").label("part"), f.key, f.channel, f.timeliness.label("label"),
            func.count().filter(f.received_at >= start).label("a"),
            func.count().filter(f.received_at < start).label("b"),
            func.count().filter(f.finished_at < cut).label("c"),
            func.count().filter(f.withdrawn_at < cut).label("d"),
        ).group_by(f.key, f.channel, f.timeliness)
        # Open at the cut: found like a period that starts at the cut (an index range scan of the last
        # LONG_RUNNING_DAYS plus the long-running index), not by a second pass over the period.
        spanning = period_dossiers(dialect, bounds[1], bounds[1], agency_code, [
            D.c.id.label("id"), key.label("key"), literal(0, Integer).label("r"),
            literal(1, Integer).label("e"), case((_marked(D.c), 1), else_=0).label("marked"),
            D.c.due_at.label("due_at"),
        ]).cte("spanning").prefix_with("MATERIALIZED")
    else:
        last_cut = _instant(bounds[-1])
        outcome = case(
            (D.c.finished_at < last_cut, func.coalesce(D.c.timeliness, literal("unknown"))),
            (D.c.withdrawn_at < last_cut, literal(stats.WITHDRAWN_OUTCOME)),
            else_=null(),
        )
        base = period_dossiers(dialect, bounds[0], bounds[-1], agency_code, [
            D.c.id.label("id"), key.label("key"), D.c.channel.label("channel"),
            _slice_index(D.c.received_at, bounds).label("r"),
            _slice_index(func.coalesce(D.c.finished_at, D.c.withdrawn_at), bounds).label("e"),
            outcome.label("outcome"), D.c.supplement_count, D.c.extension_count, D.c.payment_amount_vnd,
            D.c.due_at,
        ]).cte("base").prefix_with(
            # PostgreSQL scans twice, in parallel, rather than spool every row; SQLite spools once.
            "NOT MATERIALIZED" if dialect == "postgresql" else "MATERIALIZED")
        cells = select(
            literal("cell").label("part"), base.c.key, base.c.channel,
            cast(base.c.outcome, String).label("label"), cast(base.c.r, Integer).label("a"),
            cast(base.c.e, Integer).label("b"), func.count().label("c"),
            cast(null(), Integer).label("d"),
        ).group_by(base.c.key, base.c.channel, base.c.r, base.c.e, base.c.outcome)
        # Open at one slice cut at least: received in or before a slice, ended after it or never.
        spanning = select(
            base.c.id, base.c.key, base.c.r, base.c.e, case((_marked(base.c), 1), else_=0).label("marked"),
            base.c.due_at,
        ).where(base.c.e >= 1, base.c.e > base.c.r).cte("spanning").prefix_with("MATERIALIZED")
    parts = [cells]
    for i, piece in enumerate(slices):
        # A dossier never paused nor re-scheduled was running at the cut with the due instant it has now;
        # only the others need the control slip.
        state = case(
            (spanning.c.marked == 1, _state_at(spanning.c.id, piece.cut, piece.as_of)),
            (spanning.c.due_at < _instant(piece.as_of), literal(stats.OVERDUE_STATE)),
            else_=literal(stats.ON_TRACK_STATE),
        )
        open_here = select(spanning.c.key.label("key"), state.label("state")) \
            .where(spanning.c.r <= i, spanning.c.e > i).subquery(f"open_{i}")
        parts.append(select(
            literal("state").label("part"), open_here.c.key, cast(null(), String).label("channel"),
            cast(open_here.c.state, String).label("label"), literal(i, Integer).label("a"),
            func.count().label("b"), cast(null(), Integer).label("c"), cast(null(), Integer).label("d"),
        ).group_by(open_here.c.key, open_here.c.state))

    margins: list[stats.Marginal] = []
    cell_rows: list[stats.Cell] = []
    state_rows: list[stats.StateCount] = []
    for part, k, channel, label, a, b, c, d in session.execute(union_all(*parts)):
        if part == "margin":
            margins.append(stats.Marginal(k or "", channel, label, int(a), int(b), int(c), int(d)))
        elif part == "cell":
            cell_rows.append(stats.Cell(k or "", channel, int(a), int(b), label, int(c)))
        else:
            state_rows.append(stats.StateCount(k or "", int(a), label, int(b)))
    if len(slices) == 1:
        return stats.assemble_period(margins, state_rows)
    return stats.assemble(cell_rows, state_rows, len(slices))


@dataclass(frozen=True)
class ReportRow:
    key: str
    label: str
    counts: ProcessingCounts
    steps: StepCounts | None = None
    """Inter-agency steps held by this agency (``group_by=agency`` only)."""


@dataclass(frozen=True)
class ProcessingReport:
    window: Window
    group_by: GroupBy
    agency_code: str | None
    rows: list[ReportRow]
    total: ProcessingCounts
    step_total: StepCounts | None = None
    merged: list[Merger] = field(default_factory=list)


def processing_report(
    session: Session, *, user: User, first: date, last: date, agency_code: str | None, group_by: GroupBy,
    now: datetime,
) -> ProcessingReport:
    """``GET /stats/processing``: the contract's counts per group, as of the period end (or now)."""
    scope = scope_for(session, user, agency_code)
    window = window_for(first, last, now)
    agencies, merged = rolled_up(session, scope, window.first)
    if group_by == "month":
        slices = stats.month_slices(window)
        counts = processing_counts(session, slices, group_by, agencies)
        rows = [ReportRow(s.key, s.label, counts.get(("", i), ProcessingCounts()))
                for i, s in enumerate(slices)]
        total = stats.month_total([r.counts for r in rows])
    else:
        counts = processing_counts(session, stats.whole_period(window), group_by, agencies)
        if group_by == "agency":
            return _agency_report(session, window, scope, agencies, {k: c for (k, _), c in counts.items()})
        labels = _labels(session, group_by, [k for k, _ in counts])
        rows = [ReportRow(k, labels.get(k, k), c) for (k, _), c in sorted(counts.items(), key=_row_order)]
        total = sum((r.counts for r in rows), ProcessingCounts())
    return ProcessingReport(window, group_by, scope, rows, total, merged=merged)


def rolled_up(session: Session, scope: str | None, first: date) -> tuple[AgencyScope, list[Merger]]:
    """The agencies a report on ``scope`` counts: the agency and the units merged into it before the period
    began (their dossiers are the successor's for that period), with those units; all agencies for ``None``
    (the report by agency folds them itself)."""
    if scope is None:
        return None, []
    _, mergers = _successors(session, first)
    merged = [m for m in mergers if m.succeeded_by == scope]
    return ([scope, *(m.agency_code for m in merged)] if merged else scope), merged


@dataclass(frozen=True)
class Merger:
    """A unit merged away before the period: its dossiers are counted in its successor's row."""

    agency_code: str
    agency_name: str
    succeeded_by: str
    valid_to: date


def _agency_report(session: Session, window: Window, scope: str | None, agencies: AgencyScope,
                   counts: dict[str, ProcessingCounts]) -> ProcessingReport:
    """One row per agency: the official counts at the competent agency, beside them the inter-agency steps
    each agency held (:func:`service.operations.interagency.step_counts`). Units merged away before the period
    began (``valid_to`` < ``from``) are rolled up into their successor, and listed in ``merged``."""
    steps = interagency.step_counts(session, start=window.start, cut=window.cut, as_of=window.as_of,
                                    agencies=agencies)
    successors, mergers = _successors(session, window.first)
    official: dict[str, ProcessingCounts] = {}
    held: dict[str, StepCounts] = {}
    for code, value in counts.items():
        official[successors.get(code, code)] = official.get(successors.get(code, code), ProcessingCounts()) + value
    for code, value in steps.items():
        held[successors.get(code, code)] = held.get(successors.get(code, code), StepCounts()) + value
    keys = sorted(official.keys() | held.keys())
    labels = _labels(session, "agency", keys)
    rows = [ReportRow(k, labels.get(k, k), official.get(k, ProcessingCounts()), held.get(k, StepCounts()))
            for k in keys]
    total = sum((r.counts for r in rows), ProcessingCounts())
    step_total = sum((r.steps for r in rows if r.steps), StepCounts())
    merged = [m for m in mergers if m.agency_code in counts or m.agency_code in steps]
    return ProcessingReport(window, "agency", scope, rows, total, step_total, merged)


def _successors(session: Session, first: date) -> tuple[dict[str, str], list[Merger]]:
    """Each unit that ceased before ``first`` mapped to its latest successor (merged units can merge again)."""
    gone = {a.code: a for a in session.scalars(select(Agency).where(col(Agency.valid_to) < first,
                                                                 col(Agency.succeeded_by).is_not(None)))}
    successors: dict[str, str] = {}
    for code in gone:
        target, seen = code, {code}
        while target in gone and gone[target].succeeded_by not in seen:
            target = gone[target].succeeded_by  # type: ignore[assignment]
            seen.add(target)
        successors[code] = target
    mergers = [Merger(a.code, a.name, successors[a.code], a.valid_to) for a in gone.values()]  # type: ignore[arg-type]
    return successors, sorted(mergers, key=lambda m: m.agency_code)


def _row_order(item: tuple[tuple[str, int], ProcessingCounts]) -> tuple[int, str]:
    key = item[0][0]
    return (stats.CHANNELS.index(key), key) if key in stats.CHANNELS else (0, key)


def _labels(session: Session, group_by: GroupBy, keys: list[str]) -> dict[str, str]:
    if not keys:
        return {}
    if group_by == "agency":
        agencies = select(Agency.code, Agency.name).where(col(Agency.code).in_(keys))
        return {code: name for code, name in session.execute(agencies).all()}
    if group_by == "procedure":
        # The name of the latest version of each procedure.
        rows = session.execute(select(Procedure.code, Procedure.name, Procedure.version)
                               .where(col(Procedure.code).in_(keys)).order_by(col(Procedure.version))).all()
        return {code: name for code, name, _ in rows}
    if group_by == "channel":
        return {k: stats.CHANNEL_LABEL.get(k, k) for k in keys}
    if group_by == "service_level":
        return {k: stats.service_level_label(k) for k in keys}
    return {}


# ------------------------------------------------------------------------------------------- service index


def _seconds_between(later: ColumnElement[Any], earlier: ColumnElement[Any],
                     dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


INDEX_SUMS: Final = ("population", "late", "resolved", "resolution_seconds", "allowed_seconds", "received",
                     "received_online", "fee_resolved", "fee_paid_online", "approved", "approved_e_result",
                     "digitised", "dissatisfied", "resolved_in_time")


def index_inputs(session: Session, window: Window, agencies: AgencyScope) -> dict[str, IndexInputs]:
    """The figures the service index needs, per agency, as of the window's cut — in one statement (one
    snapshot): a parallel scan of the period's dossiers joined to results and ratings, aggregated by agency,
    and, apart from it, the control-slip probes of the few dossiers open at the cut that were ever paused or
    re-scheduled (a correlated probe inside the main scan would keep PostgreSQL from scanning in parallel).
    Then one statement over the catalogue. Agencies without dossiers or procedures are absent."""
    dialect = session.get_bind().dialect.name
    _tune(session)
    start, cut, as_of = window.start, window.cut, window.as_of
    s, c = _instant(start), _instant(cut)
    received = D.c.received_at >= s
    resolved = and_(D.c.finished_at.is_not(None), D.c.finished_at < c)
    withdrawn = and_(D.c.withdrawn_at.is_not(None), D.c.withdrawn_at < c)
    late_ended = case(
        (resolved, case((or_(D.c.timeliness == "late", D.c.supplement_count > 1), 1), else_=0)),
        (withdrawn, case((or_(D.c.supplement_count > 1,
                              and_(D.c.paused_at.is_(None), D.c.withdrawn_at > D.c.due_at)), 1), else_=0)),
        # Open at the cut and never paused nor re-scheduled: late when its (unchanged) due instant has passed.
        (_marked(D.c), 0),
        (D.c.due_at < _instant(as_of), 1),
        else_=0,
    )
    approved = and_(resolved, D.c.status != "refused")
    fee = D.c.fee_vnd > 0
    allowed_until = func.coalesce(D.c.original_due_at, D.c.due_at)
    flags = period_dossiers(dialect, start, cut, agencies, [
        D.c.id.label("id"),
        D.c.agency_code.label("agency"),
        late_ended.label("late"),
        case((resolved, 1), else_=0).label("resolved"),
        case((and_(resolved, D.c.timeliness != "late"), 1), else_=0).label("in_time"),
        case((resolved, _seconds_between(D.c.finished_at, D.c.received_at, dialect)),
             else_=0).label("seconds"),
        case((resolved, _seconds_between(allowed_until, D.c.received_at, dialect)), else_=0).label("allowed"),
        case((received, 1), else_=0).label("received"),
        case((and_(received, D.c.channel == "online"), 1), else_=0).label("online"),
        case((and_(resolved, fee), 1), else_=0).label("fee"),
        case((and_(resolved, fee, D.c.paid_online), 1), else_=0).label("fee_online"),
        case((approved, 1), else_=0).label("approved"),
        case((and_(resolved, D.c.digitised), 1), else_=0).label("digitised"),
    ]).subquery("flags")
    # Electronic results and dislikes as of the cut, joined once (hash joins) rather than probed per dossier.
    # Uploaded papers need no join: papers are uploaded only before the decision (service/operations/uploads.py
    # refuses them afterwards), so a resolved dossier's ``digitised`` flag already holds as of the cut.
    results, ratings = ResultDocument.__table__, Rating.__table__  # type: ignore[attr-defined]
    has_result = results.c.dossier_id.is_not(None)
    disliked = ratings.c.dossier_id.is_not(None)

    def total(value: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(value), 0)

    # Only results and ratings of the period can matter: a result is signed in the approve transaction
    # (signed_at = finished_at to the second, so not before the start for a dossier resolved in the period) and a
    # rating follows the return; bounding both keeps the hash tables to one period's rows in a database of
    # many years.
    joined = (
        flags
        .outerjoin(results, and_(results.c.dossier_id == flags.c.id, results.c.signed_at >= s,
                                 results.c.signed_at < c))
        .outerjoin(ratings, and_(ratings.c.dossier_id == flags.c.id, ratings.c.satisfied == false(),
                                 ratings.c.at >= s, ratings.c.at < c))
    )
    main = select(
        flags.c.agency, literal("main").label("part"), func.count(), total(flags.c.late),
        total(flags.c.resolved), total(flags.c.seconds), total(flags.c.allowed), total(flags.c.received),
        total(flags.c.online), total(flags.c.fee), total(flags.c.fee_online), total(flags.c.approved),
        total(case((and_(flags.c.approved == 1, has_result), 1), else_=0)),
        total(case((and_(flags.c.digitised == 1, has_result), 1), else_=0)),
        total(case((and_(flags.c.resolved == 1, disliked), 1), else_=0)), total(flags.c.in_time),
    ).select_from(joined).group_by(flags.c.agency)
    # Open at the cut and ever paused or re-scheduled: late when overdue then (from the control slip), or after
    # more than one supplementation request before the cut.
    open_rows = period_dossiers(dialect, cut, cut, agencies, [
        D.c.id.label("id"), D.c.agency_code.label("agency"),
    ], where=_marked(D.c)).subquery("open_rows")
    supplements_before_cut = (
        select(func.count()).select_from(E)
        .where(E.c.dossier_id == open_rows.c.id, E.c.action == "request_supplement", E.c.at < c)
        .scalar_subquery()
    )
    zero = literal(0, Integer)
    marked_late = select(
        open_rows.c.agency, literal("marked_late").label("part"), zero, func.count(),
        *([zero] * (len(INDEX_SUMS) - 2)),
    ).where(or_(supplements_before_cut > 1,
                _state_at(open_rows.c.id, cut, as_of) == stats.OVERDUE_STATE)).group_by(open_rows.c.agency)
    sums: dict[str, list[float]] = {}
    for agency, _part, *values in session.execute(union_all(main, marked_late)):
        acc = sums.setdefault(agency, [0.0] * len(INDEX_SUMS))
        for i, value in enumerate(values):
            acc[i] += float(value or 0)
    p = Procedure.__table__  # type: ignore[attr-defined]
    procedures = select(
        p.c.agency_code, func.count(), func.sum(case((p.c.service_level >= 3, 1), else_=0)),
        func.sum(case((p.c.fee_vnd > 0, 1), else_=0)),
        func.sum(case((and_(p.c.fee_vnd > 0, p.c.service_level >= 4), 1), else_=0)),
    ).where(p.c.effective_from < c, or_(p.c.superseded_at.is_(None), p.c.superseded_at >= c),
            _agency_filter(p.c.agency_code, agencies)).group_by(p.c.agency_code)
    catalogue = {agency: (int(n), int(online or 0), int(fee or 0), int(fee_online or 0))
                 for agency, n, online, fee, fee_online in session.execute(procedures)}
    out: dict[str, IndexInputs] = {}
    for agency in sums.keys() | catalogue.keys():
        figures = dict(zip(INDEX_SUMS, sums.get(agency, [0.0] * len(INDEX_SUMS)), strict=True))
        n, online, fee, fee_online = catalogue.get(agency, (0, 0, 0, 0))
        out[agency] = IndexInputs(
            **{name: (value if name.endswith("seconds") else int(value)) for name, value in figures.items()},
            procedures=n, procedures_online=online, procedures_fee=fee, procedures_fee_online=fee_online,
        )
    return out


def _scheme(scheme: str) -> str:
    if scheme not in index.SCHEMES:
        raise Unprocessable(f"Thang chỉ số không hợp lệ: {scheme}. Giá trị được chấp nhận: "
                            f"{', '.join(index.SCHEMES)}.", code="SCHEME_INVALID")
    return scheme


def service_index(session: Session, *, user: User, first: date, last: date, agency_code: str | None,
                  now: datetime, scheme: str = index.DEFAULT_SCHEME,
                  ) -> tuple[Window, str | None, dict[str, object]]:
    """``GET /stats/index``: the index of one agency (or of all) for the period under ``scheme``."""
    scope = scope_for(session, user, agency_code)
    scheme = _scheme(scheme)
    window = window_for(first, last, now)
    inputs = index_inputs(session, window, rolled_up(session, scope, window.first)[0])
    data = sum(inputs.values(), IndexInputs())
    return window, scope, index.score_index(data, scheme)


# --------------------------------------------------------------------------------------------------- ranking


@dataclass(frozen=True)
class RankingRow:
    rank: int | None
    agency_code: str
    agency_name: str
    agency_level: str
    score_total: float | None
    on_time_rate: float | None
    online_rate: float | None
    received_total: int
    previous_rank: int | None
    previous_score_total: float | None

    @property
    def rank_change(self) -> int | None:
        """Places climbed since the previous period (positive = up); ``None`` when either rank is missing."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank


@dataclass(frozen=True)
class Ranking:
    window: Window
    previous: Window
    parent_code: str | None
    scheme: str
    rows: list[RankingRow]


def _ranked(session: Session, window: Window, agencies: list[str], scheme: str,
            ) -> tuple[dict[str, IndexInputs], dict[str, tuple[float | None, int | None]]]:
    inputs = index_inputs(session, window, agencies)
    scores: list[tuple[str, float | None]] = []
    for code in agencies:
        data = inputs.get(code, IndexInputs())
        score = index.score_index(data, scheme)["score_total"] if data.scorable else None
        scores.append((code, score))  # type: ignore[arg-type]
    ranks = {code: (score, rank) for code, score, rank in index.competition_ranks(scores)}
    return inputs, ranks


def ranking(session: Session, *, user: User, first: date, last: date, previous: tuple[date, date],
            parent_code: str | None, now: datetime, scheme: str = index.DEFAULT_SCHEME) -> Ranking:
    """``GET /stats/ranking``: the agencies directly under ``parent_code`` (default: every agency), each
    scored by the service index of its own dossiers for the period, in competition ranking (1, 1, 3), with
    their rank in ``previous`` (the period of the same length just before). Staff see their own agency's row
    only (with its rank among all); citizens nothing (403)."""
    if user.role == Role.CITIZEN:
        raise ForbiddenRole("Công dân không được xem số liệu thống kê.")
    scheme = _scheme(scheme)
    window = window_for(first, last, now)
    before = window_for(*previous, now)
    if parent_code is not None and session.get(Agency, parent_code) is None:
        raise NotFound(f"Không tìm thấy cơ quan có mã {parent_code}.", code="AGENCY_NOT_FOUND")
    listed = select(Agency.code, Agency.name, Agency.level).order_by(col(Agency.code))
    if parent_code is not None:
        listed = listed.where(col(Agency.parent_code) == parent_code)
    agencies = {code: (name, level) for code, name, level in session.execute(listed)}
    codes = list(agencies)
    inputs, ranks = _ranked(session, window, codes, scheme)
    _, previous_ranks = _ranked(session, before, codes, scheme)
    rows: list[RankingRow] = []
    for code, score, rank in index.competition_ranks([(c, ranks[c][0]) for c in codes]):
        if user.role in STAFF_ROLES and code != user.agency_code:
            continue
        data = inputs.get(code, IndexInputs())
        previous_score, previous_rank = previous_ranks[code]
        rows.append(RankingRow(
            rank=rank, agency_code=code, agency_name=agencies[code][0], agency_level=agencies[code][1],
            score_total=score, on_time_rate=stats.percentage(data.resolved_in_time, data.resolved),
            online_rate=stats.percentage(data.received_online, data.received), received_total=data.received,
            previous_rank=previous_rank, previous_score_total=previous_score,
        ))
    return Ranking(window, before, parent_code, scheme, rows)
