"""Timeliness of a dossier: the one classification used by dossiers, lists and statistics.

Legal basis
-----------
* Circular 01/2018/TT-VPCP Art. 13 (indicator 1, per dossier): resolved in less time than allowed (trước hạn),
  in exactly the time allowed (đúng hạn), or in more time (quá hạn).
* Decision 766/QĐ-TTg, indicator 2.1 (National Public Service Portal): on time ⇔ NgayKetThucXuLy ≤ NgayHenTra,
  so finishing on the due day itself, up to the due instant, is on time.

The contract merges both: ``late`` if ``finished_at > due_at``; ``early`` if the local (Asia/Ho_Chi_Minh)
date of ``finished_at`` is before the local date of ``due_at``; otherwise ``on_time``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from service.domain.calendar import to_legal_time

__all__ = ["TIMELINESS_VALUES", "Timeliness", "classify", "is_overdue"]

Timeliness = Literal["early", "on_time", "late"]
TIMELINESS_VALUES: tuple[Timeliness, ...] = ("early", "on_time", "late")


def classify(finished_at: datetime, due_at: datetime) -> Timeliness:
    """``late`` if ``finished_at > due_at``; ``early`` if finished on an earlier local date than the due date;
    else ``on_time`` (Circular 01/2018 Art. 13; Decision 766 indicator 2.1). Both instants must be aware."""
    finished, due = to_legal_time(finished_at), to_legal_time(due_at)
    if finished > due:
        return "late"
    if finished.date() < due.date():
        return "early"
    return "on_time"


def is_overdue(
    now: datetime,
    due_at: datetime | None,
    finished_at: datetime | None,
    paused: bool,
    timeliness: Timeliness | None,
    *,
    withdrawn: bool = False,
) -> bool:
    """Whether a dossier is overdue (quá hạn) at ``now``.

    True for a finished dossier classified ``late`` (its timeliness never changes after ``finished_at``), and
    for an unfinished, unpaused dossier whose ``due_at`` has passed (``now > due_at``). A dossier without a
    due date (not yet received), a paused one (awaiting supplement or payment: the clock is stopped) and a
    withdrawn one are not overdue.
    """
    now = to_legal_time(now)
    if finished_at is not None:
        if timeliness is None:
            if due_at is None:
                return False
            timeliness = classify(finished_at, due_at)
        return timeliness == "late"
    if withdrawn or paused or due_at is None:
        return False
    return now > to_legal_time(due_at)
