"""Validation messages in the reader's language (service.validation_messages), without Pydantic's English."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from service.validation_messages import detail, field_name, message, preferred_language


class Probe(BaseModel):
    national_id: str = Field(pattern=r"^[0-9]{12}$")
    password: str = Field(min_length=8)
    fee_vnd: int = Field(ge=0)
    documents: list[dict[str, str]] = []


def errors_of(**values: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        Probe.model_validate(values)
    return [dict(e) for e in caught.value.errors()]


@pytest.mark.parametrize(("header", "expected"), [
    (None, "vi"), ("", "vi"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("vi-VN,en;q=0.8", "vi"),
    ("fr-FR,de;q=0.9", "vi"), ("fr, en;q=0.5", "en"), ("en;q=0, vi;q=0.1", "vi"), ("en;q=abc", "vi"),
    ("vi;q=0.4, en;q=0.6", "en"),
])
def test_the_language_is_english_only_when_asked_for_and_vietnamese_otherwise(header: str | None,
                                                                              expected: str) -> None:
    assert preferred_language(header) == expected


def test_each_error_names_the_field_from_the_glossary_in_both_languages() -> None:
    errors = {tuple(e["loc"]): e for e in errors_of(national_id="12", password="x", fee_vnd=-1)}
    assert message(errors[("national_id",)], "vi") == "Số định danh cá nhân không đúng định dạng"
    assert message(errors[("password",)], "vi") == "Mật khẩu phải có ít nhất 8 ký tự"
    assert message(errors[("fee_vnd",)], "vi") == "Lệ phí (đồng) phải lớn hơn hoặc bằng 0"
    assert message(errors[("password",)], "en") == "Password must have at least 8 characters"
    missing = errors_of()[0]
    assert message(missing, "vi") == "Số định danh cá nhân là bắt buộc"


def test_a_message_never_carries_pydantic_english() -> None:
    for error in errors_of(national_id=5, password=None, fee_vnd="abc", documents="x"):
        text = message(error, "vi")
        for english in ("should", "String", "Input", "valid integer", "Field required"):
            assert english not in text, text


def test_list_positions_and_unknown_fields_are_named() -> None:
    assert field_name(["body", "documents", 2, "code"], "vi") == "mã (thành phần hồ sơ, mục 3)"
    assert field_name(["body", "documents", 2, "code"], "en") == "code (documents, item 3)"
    assert field_name(["body", "nickname"], "vi") == "trường nickname"


def test_the_detail_leads_with_the_first_error_and_counts_the_rest() -> None:
    assert detail(["A sai", "B sai"], "vi") == "Dữ liệu không hợp lệ: A sai (và 1 lỗi khác)."
    assert detail(["A is wrong"], "en") == "Invalid input: A is wrong."
