"""Validation errors a person can read: Vietnamese by default, English when ``Accept-Language`` prefers it.

Pydantic reports each error with a stable ``type`` (``missing``, ``string_too_short`` …) and its limits in
``ctx``; this module words each type in both languages and names the field through a glossary, so no Pydantic
English reaches a Vietnamese reader. ``loc`` is left exactly as Pydantic gives it (``["body", "national_id"]``)
for clients to match on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

Language = Literal["vi", "en"]

FIELD_GLOSSARY: dict[str, tuple[str, str]] = {
    "national_id": ("số định danh cá nhân", "personal identification number"),
    "applicant_national_id": ("số định danh cá nhân của người nộp", "applicant's identification number"),
    "full_name": ("họ và tên", "full name"), "password": ("mật khẩu", "password"),
    "new_password": ("mật khẩu mới", "new password"), "current_password": ("mật khẩu hiện tại", "current password"),
    "username": ("tên đăng nhập", "username"), "phone": ("số điện thoại", "phone number"),
    "email": ("thư điện tử", "email"), "address": ("địa chỉ", "address"),
    "delivery_address": ("địa chỉ nhận kết quả", "delivery address"), "applicant": ("người nộp hồ sơ", "applicant"),
    "procedure_code": ("mã thủ tục", "procedure code"), "agency_code": ("mã cơ quan", "agency code"),
    "parent_code": ("mã cơ quan cấp trên", "parent agency code"), "code": ("mã", "code"), "name": ("tên", "name"),
    "level": ("cấp hành chính", "level"), "role": ("vai trò", "role"), "channel": ("kênh nộp hồ sơ", "channel"),
    "result_delivery": ("hình thức nhận kết quả", "result delivery"), "documents": ("thành phần hồ sơ", "documents"),
    "document_code": ("mã giấy tờ", "document code"), "required_documents": ("thành phần hồ sơ", "required documents"),
    "missing_documents": ("giấy tờ cần bổ sung", "missing documents"), "reason": ("lý do", "reason"),
    "assignee": ("người được giao xử lý", "assignee"), "amount_vnd": ("số tiền (đồng)", "amount (VND)"),
    "fee_vnd": ("lệ phí (đồng)", "fee (VND)"), "new_due_at": ("hạn mới", "new due date"),
    "service_level": ("mức độ dịch vụ công", "service level"), "processing_time": ("thời hạn giải quyết",
                                                                                   "processing time"),
    "value": ("giá trị", "value"), "unit": ("đơn vị", "unit"), "postal_allowed": ("cho phép bưu chính",
                                                                                  "postal allowed"),
    "supplement_policy": ("cách tính hạn khi bổ sung", "supplement policy"), "field": ("lĩnh vực", "field"),
    "status": ("trạng thái", "status"), "limit": ("số bản ghi tối đa", "limit"), "cursor": ("con trỏ trang", "cursor"),
    "from": ("từ ngày", "from"), "to": ("đến ngày", "to"), "start": ("thời điểm bắt đầu", "start"),
    "now": ("thời điểm", "now"), "day": ("ngày", "day"), "kind": ("loại ngày", "kind"),
    "group_by": ("cách nhóm", "group by"), "secret": ("mã tra cứu", "tracking secret"),
    "satisfied": ("mức độ hài lòng", "satisfied"), "comment": ("ý kiến", "comment"),
    "note": ("ghi chú", "note"), "at": ("thời điểm", "at"), "file": ("tệp", "file"),
    "received_from": ("tiếp nhận từ", "received from"), "received_to": ("tiếp nhận đến", "received to"),
    "overdue": ("quá hạn", "overdue"), "q": ("từ khóa", "search text"), "refresh_token": ("mã làm mới",
                                                                                          "refresh token"),
    "receipt_number": ("số biên nhận", "receipt number"), "posted_at": ("thời điểm gửi", "posted at"),
    "tracking_number": ("mã bưu gửi", "tracking number"), "event": ("sự kiện", "event"),
    "assisted": ("được hỗ trợ", "assisted"), "postal_handover": ("biên bản giao nhận", "postal hand-over"),
    "Idempotency-Key": ("khóa chống lặp", "idempotency key"), "If-Match": ("phiên bản (If-Match)", "If-Match"),
    "grant_type": ("kiểu cấp quyền", "grant type"), "delivery_zone": ("vùng chuyển phát", "delivery zone"),
    "appointment_slip": ("phiếu hẹn", "appointment slip"), "legal_basis": ("căn cứ pháp lý", "legal basis"),
}

# (Vietnamese, English) wording per Pydantic error type; {…} are filled from the error's ctx.
MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("là bắt buộc", "is required"),
    "string_too_short": ("phải có ít nhất {min_length} ký tự", "must have at least {min_length} characters"),
    "string_too_long": ("có tối đa {max_length} ký tự", "must have at most {max_length} characters"),
    "string_pattern_mismatch": ("không đúng định dạng", "has an invalid format"),
    "string_type": ("phải là chuỗi ký tự", "must be a string"),
    "int_type": ("phải là số nguyên", "must be an integer"), "int_parsing": ("phải là số nguyên",
                                                                           "must be an integer"),
    "int_from_float": ("phải là số nguyên", "must be an integer"),
    "float_type": ("phải là số", "must be a number"), "float_parsing": ("phải là số", "must be a number"),
    "bool_type": ("phải là true hoặc false", "must be true or false"),
    "bool_parsing": ("phải là true hoặc false", "must be true or false"),
    "greater_than": ("phải lớn hơn {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("phải lớn hơn hoặc bằng {ge}", "must be at least {ge}"),
    "less_than": ("phải nhỏ hơn {lt}", "must be less than {lt}"),
    "less_than_equal": ("phải nhỏ hơn hoặc bằng {le}", "must be at most {le}"),
    "literal_error": ("phải là một trong các giá trị: {expected}", "must be one of: {expected}"),
    "enum": ("phải là một trong các giá trị: {expected}", "must be one of: {expected}"),
    "too_short": ("phải có ít nhất {min_length} phần tử", "must have at least {min_length} items"),
    "too_long": ("có tối đa {max_length} phần tử", "must have at most {max_length} items"),
    "extra_forbidden": ("không phải là trường được chấp nhận", "is not an accepted field"),
    "json_invalid": ("không phải JSON hợp lệ", "is not valid JSON"),
    "json_type": ("không phải JSON hợp lệ", "is not valid JSON"),
    "model_type": ("phải là một đối tượng JSON", "must be a JSON object"),
    "model_attributes_type": ("phải là một đối tượng JSON", "must be a JSON object"),
    "dict_type": ("phải là một đối tượng JSON", "must be a JSON object"),
    "list_type": ("phải là một danh sách", "must be a list"),
    "date_type": ("phải là ngày dạng YYYY-MM-DD", "must be a date as YYYY-MM-DD"),
    "date_parsing": ("phải là ngày dạng YYYY-MM-DD", "must be a date as YYYY-MM-DD"),
    "date_from_datetime_parsing": ("phải là ngày dạng YYYY-MM-DD", "must be a date as YYYY-MM-DD"),
    "datetime_type": ("phải là thời điểm ISO 8601 có múi giờ, ví dụ 2026-02-12T09:00:00+07:00",
                      "must be an ISO 8601 date-time with an offset, e.g. 2026-02-12T09:00:00+07:00"),
    "datetime_parsing": ("phải là thời điểm ISO 8601 có múi giờ, ví dụ 2026-02-12T09:00:00+07:00",
                         "must be an ISO 8601 date-time with an offset, e.g. 2026-02-12T09:00:00+07:00"),
    "datetime_from_date_parsing": ("phải là thời điểm ISO 8601 có múi giờ, ví dụ 2026-02-12T09:00:00+07:00",
                                   "must be an ISO 8601 date-time with an offset, e.g. 2026-02-12T09:00:00+07:00"),
    "timezone_aware": ("phải có múi giờ, ví dụ +07:00", "must carry an offset, e.g. +07:00"),
    "union_tag_invalid": ("phải là một trong các giá trị: {expected_tags}", "must be one of: {expected_tags}"),
    "union_tag_not_found": ("thiếu trường phân loại {discriminator}", "lacks the discriminator {discriminator}"),
    "value_error": ("không hợp lệ", "is invalid"),
}
# The project's own validators (service.schemas), by their English message.
VALUE_ERRORS: dict[str, str] = {
    "expected a date as YYYY-MM-DD": "phải là ngày dạng YYYY-MM-DD",
    "expected an ISO 8601 date-time with an offset, e.g. 2026-02-12T09:00:00+07:00":
        "phải là thời điểm ISO 8601 có múi giờ, ví dụ 2026-02-12T09:00:00+07:00",
    "processing time must be at least 1 unless the unit is same_day":
        "phải từ 1 trở lên, trừ khi đơn vị là same_day",
    "required_documents codes must be unique": "có mã giấy tờ bị trùng",
}
INVALID = ("không hợp lệ", "is invalid")
LOCATION = {"body": ("nội dung yêu cầu", "request body"), "query": ("tham số", "query parameter"),
            "path": ("đường dẫn", "path"), "header": ("tiêu đề", "header")}


def preferred_language(accept_language: str | None) -> Language:
    """``en`` when the first supported language the client ranks highest is English, else Vietnamese (also for
    an absent, malformed or unknown ``Accept-Language``)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in ("vi", "en") and quality > 0:
            ranked.append((-quality, position, primary))
    return "en" if ranked and min(ranked)[2] == "en" else "vi"


def _ctx_text(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("'", "")
    if isinstance(value, Sequence):
        return ", ".join(str(v) for v in value)
    return str(value)


def field_name(loc: Sequence[Any], language: Language) -> str:
    """The reader's name of the field at ``loc``: the last named part found in the glossary, with its list
    position (``documents[2].code`` → "mã (thành phần hồ sơ, mục 3)")."""
    index = 0 if language == "vi" else 1
    names = [part for part in loc if isinstance(part, str) and part not in LOCATION]
    positions = [part for part in loc if isinstance(part, int)]
    if not names:
        return LOCATION.get(str(loc[0]), INVALID)[index] if loc else ("dữ liệu", "input")[index]
    unknown = (f"trường {names[-1]}", f"field {names[-1]}")
    label = FIELD_GLOSSARY.get(names[-1], unknown)[index]
    if len(names) > 1 and names[-2] in FIELD_GLOSSARY:
        parent = FIELD_GLOSSARY[names[-2]][index]
        item = (f", mục {positions[-1] + 1}" if language == "vi" else f", item {positions[-1] + 1}") \
            if positions else ""
        label = f"{label} ({parent}{item})"
    elif positions:
        label += f" (mục {positions[-1] + 1})" if language == "vi" else f" (item {positions[-1] + 1})"
    return label


def message(error: Mapping[str, Any], language: Language) -> str:
    """One error in the reader's language: "<field> <what is wrong>"."""
    index = 0 if language == "vi" else 1
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        original = str(ctx.get("error", ""))
        wording = VALUE_ERRORS.get(original, INVALID[0]) if language == "vi" else (original or INVALID[1])
    else:
        template = MESSAGES.get(kind, INVALID)[index]
        try:
            wording = template.format(**{k: _ctx_text(v) for k, v in ctx.items()})
        except (KeyError, IndexError):
            wording = INVALID[index]
    name = field_name(error.get("loc", ()), language)
    return f"{name[:1].upper()}{name[1:]} {wording}"


def detail(messages: Sequence[str], language: Language) -> str:
    if not messages:
        return "Dữ liệu không hợp lệ." if language == "vi" else "Invalid input."
    more = len(messages) - 1
    head = "Dữ liệu không hợp lệ: " if language == "vi" else "Invalid input: "
    tail = ""
    if more:
        tail = f" (và {more} lỗi khác)" if language == "vi" else f" (and {more} more)"
    return f"{head}{messages[0]}{tail}."
