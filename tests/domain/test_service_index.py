"""The service index in both schemes, computed by hand per indicator; competition ranking; periods."""

from __future__ import annotations

from datetime import date

import pytest

from service.domain import service_index as index
from service.domain import statistics as stats
from service.domain.service_index import IndexInputs
from service.domain.statistics import Period

# The March scenario of tests/api/test_statistics.py, in figures: 14 dossiers to handle, 3 of them late; 8
# resolved in 2 days on average against 1.5 allowed; 5 procedures, 4 online, 2 with a fee of which 1 at level
# 4; 11 received, 2 online; 1 fee-bearing resolved dossier, paid online; 7 approved, all with an e-result; 2
# digitised; 1 dislike.
MARCH = IndexInputs(population=14, late=3, resolved=8, resolution_seconds=8 * 86400 * 2.0,
                    allowed_seconds=8 * 86400 * 1.5, procedures=5, procedures_online=4, procedures_fee=2,
                    procedures_fee_online=1, received=11, received_online=2, fee_resolved=1, fee_paid_online=1,
                    approved=7, approved_e_result=7, digitised=2, dissatisfied=1, resolved_in_time=7)


def indicators(body: dict[str, object]) -> dict[str, dict[str, object]]:
    return {i["code"]: i for g in body["groups"] for i in g["indicators"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rate", "threshold", "expected"), [
    (80.0, 80, 6.0), (95.0, 80, 6.0), (40.0, 80, 3.0), (0.0, 80, 0.0), (50.0, None, 3.0), (None, 80, None),
])
def test_threshold_points(rate: float | None, threshold: float | None, expected: float | None) -> None:
    assert index.threshold_points(rate, 6, threshold) == expected


def test_the_schemes_have_their_group_maxima_and_every_indicator_a_source() -> None:
    assert [(g.code, g.max_points) for g in index.SCHEMES["qd766-2022"].groups] == [
        ("1", 18), ("2", 20), ("3", 22), ("4", 22), ("5", 18)]
    assert [(g.code, g.max_points) for g in index.SCHEMES["portal-2025"].groups] == [
        ("1", 18), ("2", 20), ("3", 12), ("4", 22), ("5", 18), ("6", 10)]
    for scheme in index.SCHEMES.values():
        assert sum(g.max_points for g in scheme.groups) == 100
        for group in scheme.groups:
            assert sum(i.max_points for i in group.indicators) <= group.max_points
            assert all(i.source and i.formula for i in group.indicators)
    assert index.DEFAULT_SCHEME == "portal-2025"


def test_decision_766_by_hand() -> None:
    body = index.score_index(MARCH, "qd766-2022")
    got = indicators(body)
    assert (got["2.1"]["numerator"], got["2.1"]["denominator"]) == (11, 14)
    assert got["2.1"]["value"] == 78.57 and got["2.1"]["points"] == 11.79  # 15 × 78.57 / 100
    assert got["2.2"]["value"] == 2.0 and got["2.2"]["allowed_average_days"] == 1.5
    assert (got["2.2"]["numerator"], got["2.2"]["denominator"]) == (16.0, 8)  # 16 days over 8 dossiers
    assert got["2.2"]["points"] == 3.75  # 5 × 1.5 / 2
    assert got["3.1"]["value"] == 80 and got["3.1"]["points"] == 6  # 4/5, full at 80 %
    assert got["3.3"]["value"] == 18.18 and got["3.3"]["points"] == 3.64  # 10 × 18.18 / 50
    assert got["3.6"]["value"] == 100 and got["3.6"]["points"] == 6
    assert got["4.1"]["points"] == 11
    assert got["4.2"]["value"] == 25 and got["4.2"]["points"] == 3.44  # 11 × 25 / 80
    # 5.4: 100 − (3/14 = 21.43 % + 1/8 = 12.5 %) = 66.07 %, full at 90 % → 6 × 66.07 / 90.
    assert got["5.4"]["value"] == 66.07 and got["5.4"]["points"] == 4.4
    earned = 11.79 + 3.75 + 6 + 3.64 + 6 + 11 + 3.44 + 4.4
    assert body["points_assessed"] == 70 and body["points_earned"] == pytest.approx(earned)
    assert body["score_total"] == pytest.approx(round(100 * earned / 70, 2))


def test_portal_2025_by_hand() -> None:
    body = index.score_index(MARCH)
    assert body["scheme"] == "portal-2025"
    got = indicators(body)
    assert set(got) == {"2.1", "3.1", "3.3", "4.1", "4.2", "5.4", "6.1", "6.2"}
    assert got["2.1"]["points"] == 15.71  # progress = 20 × 11/14 (78.57 %)
    assert got["3.1"]["points"] == 4  # 80 % of procedures online: full 4
    assert got["3.3"]["points"] == 2.91  # 8 × 18.18 / 50
    assert got["4.1"]["points"] == 11 and got["4.2"]["points"] == 3.44
    assert got["5.4"]["points"] == 4.4  # min(6, 6 × 66.07 / 90)
    assert got["6.1"]["points"] == 6  # 6A, A = 1/1
    assert (got["6.2"]["numerator"], got["6.2"]["denominator"]) == (1, 2)
    assert got["6.2"]["points"] == 1.25  # min(2, 2.5 × 0.5)
    assert {g["code"]: g["points"] for g in body["groups"]} == {  # type: ignore[index]
        "1": None, "2": 15.71, "3": 6.91, "4": 14.44, "5": 4.4, "6": 7.25}
    assert body["points_assessed"] == 68 and body["points_earned"] == 48.71
    assert body["score_total"] == 71.63  # 100 × 48.71 / 68
    weights = {code: i["weight"] for code, i in got.items()}
    assert weights["2.1"] == weights["6.1"] == weights["5.4"] == "empirical" and weights["3.3"] == "assumed"


def test_payment_component_b_is_capped_at_two_points() -> None:
    got = indicators(index.score_index(IndexInputs(procedures_fee=10, procedures_fee_online=9)))
    assert got["6.2"]["value"] == 90 and got["6.2"]["points"] == 2  # min(2, 2.5 × 0.9)


def test_indicators_without_a_denominator_are_not_scored() -> None:
    body = index.score_index(IndexInputs(procedures=2, procedures_online=1), "qd766-2022")
    assert body["points_assessed"] == 6 and body["score_total"] == pytest.approx(100 * 3.75 / 6)
    assert index.score_index(IndexInputs())["score_total"] is None
    assert not IndexInputs(procedures=3).scorable and MARCH.scorable
    with pytest.raises(KeyError):
        index.score_index(MARCH, "qd766-2099")


def test_competition_ranking_shares_ties_skips_after_and_puts_nothing_last() -> None:
    ranks = index.competition_ranks([("C", 70.0), ("A", 90.0), ("E", None), ("B", 90.0), ("D", 50.0),
                                     ("F", None)])
    assert ranks == [("A", 90.0, 1), ("B", 90.0, 1), ("C", 70.0, 3), ("D", 50.0, 4), ("E", None, None),
                     ("F", None, None)]
    assert index.competition_ranks([]) == []


@pytest.mark.parametrize(("span", "previous"), [
    (stats.calendar_period("month", 2026, 3), Period(date(2026, 2, 1), date(2026, 2, 28), "month")),
    (stats.calendar_period("month", 2026, 1), Period(date(2025, 12, 1), date(2025, 12, 31), "month")),
    (stats.calendar_period("quarter", 2026, 1), Period(date(2025, 10, 1), date(2025, 12, 31), "quarter")),
    (stats.calendar_period("quarter", 2025, 3), Period(date(2025, 4, 1), date(2025, 6, 30), "quarter")),
    (stats.calendar_period("year", 2025), Period(date(2024, 1, 1), date(2024, 12, 31), "year")),
    (Period(date(2026, 3, 10), date(2026, 3, 19)), Period(date(2026, 2, 28), date(2026, 3, 9))),
])
def test_previous_period_has_the_same_length(span: Period, previous: Period) -> None:
    assert stats.previous_period(span) == previous


def test_periods_by_name_or_by_dates() -> None:
    resolve = stats.resolve_period
    assert resolve(None, None, "quarter", 2026, 2, None) == Period(date(2026, 4, 1), date(2026, 6, 30), "quarter")
    assert resolve(None, None, "month", 2024, None, 2) == Period(date(2024, 2, 1), date(2024, 2, 29), "month")
    assert resolve(date(2025, 1, 1), date(2025, 12, 31), None, None, None, None).kind == "year"
    assert resolve(date(2025, 4, 1), date(2025, 6, 30), None, None, None, None).kind == "quarter"
    assert resolve(date(2025, 4, 2), date(2025, 6, 30), None, None, None, None).kind is None
    for args, code in [
        ((None, None, "year", 1999, None, None), "DATE_OUT_OF_RANGE"),
        ((date(1999, 12, 31), date(2000, 1, 5), None, None, None, None), "DATE_OUT_OF_RANGE"),
        ((date(2100, 12, 1), date(2101, 1, 1), None, None, None, None), "DATE_OUT_OF_RANGE"),
        ((None, None, "month", 2026, None, 13), "PERIOD_INVALID"),
        ((None, None, "quarter", 2026, None, None), "PERIOD_INVALID"),
        ((None, None, "year", None, None, None), "PERIOD_INVALID"),
        ((None, None, None, None, None, None), "PERIOD_INVALID"),
        ((date(2026, 1, 1), date(2026, 1, 31), "month", 2026, None, 1), "PERIOD_INVALID"),
    ]:
        with pytest.raises(stats.PeriodError) as caught:
            resolve(*args)
        assert caught.value.code == code, args
