"""The rulebook by effective date: which one-stop rules govern a dossier, and on what legal basis.

A dossier keeps the rule set in force on the local date it was received (``Dossier.rule_set``), as it keeps its
procedure version. Two sets are known:

- ``61/2018`` — Decree 61/2018/NĐ-CP as amended by Decree 107/2021/NĐ-CP, with Circular 01/2018/TT-VPCP forms;
  in force from 2018-06-21 to 2025-06-30 (verified against the codified text, see the rules' confidence).
- ``118/2025`` — Decree 118/2025/NĐ-CP (in force 2025-07-01; amended by Decree 367/2025/NĐ-CP), with Circular
  03/2025/TT-VPCP forms. Its full text could not be read: where it is known to differ (lodging anywhere in the
  province, the two-tier desks, the forms) the rule says so; where it is not known, the 61/2018 rule is kept,
  ``carried_over`` is true and the confidence says the basis is unverified.

Confidence follows the reference notes' tags: ``verified`` (legal text), ``secondary`` (news, law-firm or
official summaries), ``unverified`` (a design assumption).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal

Confidence = Literal["verified", "secondary", "recalled", "unverified"]


@dataclass(frozen=True)
class Rule:
    """One rule: a stable ``key``, what it says (Vietnamese, for officers), its parameters, its basis."""

    key: str
    title: str
    summary: str
    legal_basis: str
    confidence: Confidence
    parameters: dict[str, Any] = field(default_factory=dict)
    carried_over: bool = False
    """Kept from Decree 61/2018 because the newer text could not be verified."""


@dataclass(frozen=True)
class RuleSet:
    code: str
    name: str
    valid_from: date
    valid_to: date | None
    instruments: tuple[str, ...]
    rules: tuple[Rule, ...]

    def rule(self, key: str) -> Rule:
        return next(r for r in self.rules if r.key == key)

    def allows(self, key: str) -> bool:
        return bool(self.rule(key).parameters.get("allowed", False))


DECREE_61 = "61/2018"
DECREE_118 = "118/2025"
DECREE_118_FROM: Final = date(2025, 7, 1)
_UNKNOWN_118 = ("Chưa đối chiếu được toàn văn Nghị định 118/2025/NĐ-CP; giữ quy tắc của Nghị định 61/2018/NĐ-CP "
                "(sửa đổi bởi Nghị định 107/2021/NĐ-CP)")

_COMMON_61: Final = (
    Rule("supplement.window", "Thời hạn yêu cầu bổ sung hồ sơ",
         "Cơ quan giải quyết chỉ được yêu cầu bổ sung trong 03 ngày làm việc kể từ khi bắt đầu tính thời hạn.",
         "Nghị định 61/2018/NĐ-CP Điều 19 khoản 4", "verified", {"working_days": 3}),
    Rule("supplement.restart", "Tính lại thời hạn sau khi bổ sung",
         "Thời hạn giải quyết được tính lại từ đầu sau khi nhận đủ hồ sơ (trừ thủ tục quy định tạm dừng).",
         "Nghị định 61/2018/NĐ-CP Điều 19 khoản 4", "verified", {"default_policy": "restart"}),
    Rule("extension.once", "Hẹn lại ngày trả kết quả",
         "Hồ sơ quá hạn được hẹn lại một lần, chậm nhất 01 ngày làm việc trước ngày hẹn trả, kèm phiếu xin lỗi.",
         "Nghị định 61/2018/NĐ-CP Điều 19 khoản 9 (sửa đổi bởi Nghị định 107/2021/NĐ-CP)", "verified",
         {"max_extensions": 1, "notice_working_days": 1}),
    Rule("transfer.same_day", "Chuyển hồ sơ giấy",
         "Hồ sơ giấy được chuyển trong ngày làm việc, hoặc đầu giờ ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ.",
         "Nghị định 61/2018/NĐ-CP Điều 18", "verified", {"cutoff": "15:00"}),
    Rule("interagency.steps", "Thủ tục liên thông",
         "Phiếu chuyển xử lý ghi nhiệm vụ và thời hạn của từng cơ quan; cơ quan cuối trả kết quả về Bộ phận Một "
         "cửa nơi tiếp nhận.", "Nghị định 61/2018/NĐ-CP Điều 19 khoản 6, 7", "verified", {"split_deadlines": True}),
    Rule("postal.handover", "Tiếp nhận qua bưu chính công ích",
         "Thời hạn giải quyết tính từ khi ký Biên bản giao nhận hồ sơ với nhân viên bưu chính.",
         "Quyết định 45/2016/QĐ-TTg Điều 7 khoản 4", "verified"),
)


def _carried(rule: Rule) -> Rule:
    return Rule(rule.key, rule.title, rule.summary, f"{_UNKNOWN_118}: {rule.legal_basis}", "unverified",
                rule.parameters, carried_over=True)


RULE_SETS: Final[tuple[RuleSet, ...]] = (
    RuleSet(
        DECREE_61, "Nghị định 61/2018/NĐ-CP, sửa đổi bởi Nghị định 107/2021/NĐ-CP", date(2018, 6, 21),
        date(2025, 6, 30),
        ("Nghị định 61/2018/NĐ-CP", "Nghị định 107/2021/NĐ-CP", "Thông tư 01/2018/TT-VPCP"),
        (
            Rule("lodging.place", "Nơi nộp hồ sơ",
                 "Hồ sơ nộp tại Bộ phận Một cửa của cơ quan có thẩm quyền giải quyết.",
                 "Nghị định 61/2018/NĐ-CP Điều 16, 17", "verified", {"allowed": False}),
            Rule("desk.levels", "Bộ phận Một cửa",
                 "Bộ phận Một cửa ở cấp bộ, cấp tỉnh, cấp huyện và cấp xã.",
                 "Nghị định 61/2018/NĐ-CP Điều 7 (điều khoản chưa đối chiếu)", "recalled",
                 {"levels": ["ministry", "province", "district", "commune"]}),
            Rule("forms", "Biểu mẫu", "Mẫu 01–06 của Thông tư 01/2018/TT-VPCP; Mẫu 04: Phiếu xin lỗi và hẹn lại "
                 "ngày trả kết quả.", "Thông tư 01/2018/TT-VPCP Điều 9", "verified",
                 {"circular": "01/2018/TT-VPCP", "apology_form": "Mẫu 04 — Phiếu xin lỗi và hẹn lại ngày trả kết quả"}),
            *_COMMON_61,
        ),
    ),
    RuleSet(
        DECREE_118, "Nghị định 118/2025/NĐ-CP (sửa đổi bởi Nghị định 367/2025/NĐ-CP)", DECREE_118_FROM, None,
        ("Nghị định 118/2025/NĐ-CP", "Nghị định 367/2025/NĐ-CP", "Thông tư 03/2025/TT-VPCP"),
        (
            Rule("lodging.place", "Nộp hồ sơ không phụ thuộc địa giới hành chính",
                 "Thủ tục trong danh mục phi địa giới hành chính được nộp và nhận kết quả tại bất kỳ Bộ phận Một cửa "
                 "nào trong tỉnh; mã hồ sơ vẫn là của cơ quan có thẩm quyền.",
                 "Nghị định 118/2025/NĐ-CP (theo tin Báo Hà Tĩnh 10/03/2026 trích dẫn nghị định; chưa đối chiếu "
                 "điều khoản)", "secondary", {"allowed": True}),
            Rule("desk.levels", "Trung tâm Phục vụ hành chính công",
                 "Chính quyền hai cấp: Trung tâm Phục vụ hành chính công cấp tỉnh và cấp xã; không còn cấp huyện.",
                 "Nghị định 118/2025/NĐ-CP; Nghị quyết 202/2025/QH15 (34 tỉnh, thành phố)", "secondary",
                 {"levels": ["ministry", "province", "commune"]}),
            Rule("forms", "Biểu mẫu", "Mẫu 01–07 của Thông tư 03/2025/TT-VPCP; Mẫu 04: Phiếu xin lỗi và đề nghị "
                 "gia hạn thời gian giải quyết; Mẫu 05: thông báo dừng giải quyết.",
                 "Thông tư 03/2025/TT-VPCP Phụ lục I (nguồn thứ cấp)", "secondary",
                 {"circular": "03/2025/TT-VPCP",
                  "apology_form": "Mẫu 04 — Phiếu xin lỗi và đề nghị gia hạn thời gian giải quyết"}),
            *(_carried(rule) for rule in _COMMON_61),
        ),
    ),
)


def rule_set_on(day: date) -> RuleSet:
    """The rule set in force on ``day`` (local date). Days before Decree 61/2018 use it too: the simulator and
    the bulk generator never go further back, and an older regime is out of scope."""
    for rule_set in reversed(RULE_SETS):
        if rule_set.valid_from <= day:
            return rule_set
    return RULE_SETS[0]


def rule_set(code: str | None) -> RuleSet:
    """The rule set named ``code`` (a dossier's ``rule_set``); ``None`` (not yet received) means the current one."""
    for candidate in RULE_SETS:
        if candidate.code == code:
            return candidate
    return RULE_SETS[-1]
