"""The one-stop desk's worklist and the actions its page offers, built on the dossier application layer.

The worklist page (``/mot-cua``) shows the caller's open dossiers in the buckets of the contract's
``GET /worklist``: to receive, to assign, processing, awaiting supplement or payment, to return, due soon,
overdue, and (for a processor) mine. "Due soon" follows the contract's definition, computed by the dossier
representation (:func:`service.domain.deadlines_ahead.deadline_ahead`): a running dossier (received
or processing, not paused) with more than zero and at most ``due_soon_working_hours`` of working time left on
its agency's calendar; "overdue" is a running dossier past its ``due_at`` — so the two never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from service.domain import lifecycle
from service.domain.lifecycle import Action, Status
from service.dossiers import actions, presenter
from service.dossiers.effects import Effects
from service.dossiers.visibility import load_visible, visibility_filter
from service.errors import Unprocessable
from service.models import Dossier, User
from service.schemas.dossiers import DossierOut

BUCKETS: tuple[str, ...] = ("to_receive", "to_assign", "processing", "awaiting_supplement", "awaiting_payment",
                            "to_return", "due_soon", "overdue", "mine")
BUCKET_LABEL = {
    "to_receive": "Chờ tiếp nhận", "to_assign": "Chờ phân công", "processing": "Đang xử lý",
    "awaiting_supplement": "Chờ bổ sung", "awaiting_payment": "Chờ nộp phí", "to_return": "Chờ trả kết quả",
    "due_soon": "Sắp đến hạn", "overdue": "Quá hạn", "mine": "Được giao cho tôi",
}
STATUS_BUCKET = {
    Status.SUBMITTED: "to_receive", Status.RECEIVED: "to_assign", Status.PROCESSING: "processing",
    Status.AWAITING_SUPPLEMENT: "awaiting_supplement", Status.AWAITING_PAYMENT: "awaiting_payment",
    Status.RESULT_READY: "to_return",
}
OPEN_STATUSES = frozenset(STATUS_BUCKET)
#: Actions the page offers as one button: they need no body (``assign`` only the processor chosen in a list).
DESK_ACTIONS: dict[Action, str] = {
    Action.RECEIVE: "Tiếp nhận", Action.ASSIGN: "Phân công", Action.APPROVE: "Phê duyệt",
    Action.RETURN_RESULT: "Trả kết quả",
}
MAX_OPEN_DOSSIERS = 1000
"""The page reads at most this many open dossiers, earliest due first (a desk's open work is far smaller)."""


@dataclass(frozen=True)
class WorkItem:
    dossier: DossierOut
    working_hours_left: float | None
    due_soon: bool
    buckets: frozenset[str]
    actions: tuple[Action, ...]


@dataclass
class Worklist:
    counts: dict[str, int]
    items: list[WorkItem]
    processors: list[tuple[str, str]] = field(default_factory=list)
    """(username, full name) of the processors the caller may assign to."""


def actions_for(role: str, item: DossierOut) -> tuple[Action, ...]:
    """The desk actions the caller's role may take on ``item`` in its current status."""
    status = Status(item.status)
    offered: list[Action] = []
    if role == "receiver" and status is Status.SUBMITTED:
        offered.append(Action.RECEIVE)
    if role == "receiver" and status is Status.RECEIVED:
        offered.append(Action.ASSIGN)
    if role == "approver" and status is Status.PROCESSING:
        offered.append(Action.APPROVE)
    if role == "receiver" and status is Status.RESULT_READY and item.result_delivery != "postal":
        offered.append(Action.RETURN_RESULT)
    return tuple(offered)


def worklist(session: Session, *, user: User, now: datetime, due_soon_hours: float,
             bucket: str | None = None) -> Worklist:
    """The caller's open dossiers (their agency's; an admin's: all), counted per bucket, and the items of
    ``bucket`` (all open ones when None), earliest ``due_at`` first, no due date last."""
    rows = list(session.exec(
        select(Dossier).where(visibility_filter(user), col(Dossier.status).in_([s.value for s in
                                                                                          OPEN_STATUSES]))
        .order_by(col(Dossier.due_at).is_(None), col(Dossier.due_at), col(Dossier.id)).limit(MAX_OPEN_DOSSIERS)))
    counts = dict.fromkeys(BUCKETS, 0)
    items: list[WorkItem] = []
    # due soon and working hours left: the one definition (service.domain.deadlines_ahead), as in GET /worklist
    for view in presenter.present(session, rows, now=now, due_soon_hours=due_soon_hours):
        status = Status(view.status)
        left, due_soon = view.working_hours_left, view.due_soon
        buckets = {STATUS_BUCKET[status]}
        if due_soon:
            buckets.add("due_soon")
        if view.overdue and status in lifecycle.RUNNING:
            buckets.add("overdue")
        if user.role == "processor" and view.assignee == user.username:
            buckets.add("mine")
        for name in buckets:
            counts[name] += 1
        if bucket is None or bucket in buckets:
            items.append(WorkItem(view, left, due_soon, frozenset(buckets), actions_for(user.role, view)))
    processors: list[tuple[str, str]] = []
    if user.role == "receiver" and user.agency_code:
        processors = [(u.username, u.full_name) for u in session.exec(
            select(User).where(User.role == "processor", User.agency_code == user.agency_code,
                               col(User.active).is_(True)).order_by(col(User.full_name)))]
    return Worklist(counts, items, processors)


def perform(session: Session, *, user: User, code: str, action_name: str, version: int | None,
            assignee: str | None, now: datetime, effects: Effects) -> Dossier:
    """One desk action from the page, with the same checks, slip row and notice as the API's
    ``POST /dossiers/{code}/actions/{action}`` (the version shown on the page is the If-Match)."""
    dossier = load_visible(session, user, code, for_update=True)
    action = actions.parse_action(action_name)
    if action not in DESK_ACTIONS:
        raise Unprocessable("Thao tác này không thực hiện được từ trang Một cửa.", code="UNKNOWN_ACTION")
    payload = {"assignee": assignee} if action is Action.ASSIGN else {}
    if_match = f'"{version}"' if version is not None else None
    actions.act(session, user=user, dossier=dossier, action=action, payload=payload, if_match=if_match, now=now,
                effects=effects)
    return dossier
