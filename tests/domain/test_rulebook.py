"""The rulebook by effective date."""

from __future__ import annotations

from datetime import date

from service.domain import rulebook


def test_decree_118_governs_from_1_july_2025() -> None:
    assert rulebook.rule_set_on(date(2025, 6, 30)).code == "61/2018"
    assert rulebook.rule_set_on(date(2025, 7, 1)).code == "118/2025"
    assert rulebook.rule_set_on(date(2019, 1, 1)).code == "61/2018"


def test_only_decree_118_lets_any_desk_of_the_province_lodge() -> None:
    assert not rulebook.rule_set_on(date(2025, 6, 30)).allows("lodging.place")
    assert rulebook.rule_set_on(date(2025, 7, 1)).allows("lodging.place")


def test_rules_kept_from_decree_61_say_so() -> None:
    current = rulebook.rule_set("118/2025")
    for key in ("supplement.window", "supplement.restart", "extension.once"):
        rule = current.rule(key)
        assert rule.carried_over and rule.confidence == "unverified"
        assert rule.parameters == rulebook.rule_set("61/2018").rule(key).parameters
