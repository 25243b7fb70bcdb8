"""The processing report as an Excel workbook (``.xlsx``), laid out like the paper report form.

A Vietnamese-locale spreadsheet opens a comma-separated file in a single column (its list separator is ";"),
so the report is also offered as a workbook: Vietnamese headings on two rows with the form's group headings
merged over their columns (and single headings merged down both rows), numbers as numbers, rates with two
decimals, a final "Tổng cộng" row. The columns are :data:`service.domain.statistics.REPORT_COLUMNS` (and, by
agency, :data:`~service.domain.statistics.STEP_COLUMNS`), the same as the JSON and the CSV.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from itertools import groupby

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from service.domain.statistics import GROUP_COLUMN, ProcessingCounts, report_columns, row_values
from service.domain.steps import StepCounts

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROWS = (4, 5)
"""Rows of the two heading rows (1-based); the title and the period come above, the data below."""
RATE_FIELDS = frozenset({"on_time_rate", "online_rate"})

_thin = Side(style="thin")
_box = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_centred = Alignment(horizontal="center", vertical="center", wrap_text=True)


def render_xlsx(group_by: str, rows: Sequence[tuple[str, str, ProcessingCounts]], total: ProcessingCounts, *,
                title: str, subtitle: str, steps: Sequence[StepCounts | None] | None = None,
                step_total: StepCounts | None = None) -> bytes:
    """The workbook's bytes: one sheet "Báo cáo" with the title, the period line, the two heading rows, one
    row per group and the total row; with ``steps`` (one per row, ``group_by=agency``) the inter-agency step
    columns follow the form's, as in the CSV."""
    columns = report_columns(steps is not None)
    book = Workbook()
    sheet = book.active
    sheet.title = "Báo cáo"
    leading = ["STT", "Mã", GROUP_COLUMN[group_by]]
    width = len(leading) + len(columns)
    top, bottom = HEADER_ROWS

    for row, text in ((1, title), (2, subtitle)):
        sheet.cell(row=row, column=1, value=text).font = Font(bold=row == 1, size=13 if row == 1 else 11)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        sheet.cell(row=row, column=1).alignment = Alignment(horizontal="center")

    def heading(row: int, column: int, text: str) -> None:
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font, cell.alignment, cell.border = Font(bold=True), _centred, _box

    for column, text in enumerate(leading, start=1):
        heading(top, column, text)
        sheet.merge_cells(start_row=top, start_column=column, end_row=bottom, end_column=column)
    column = len(leading) + 1
    for group, members in groupby(columns, key=lambda c: c.group):
        members = list(members)
        if len(members) == 1 and members[0].heading == group:
            heading(top, column, group)
            sheet.merge_cells(start_row=top, start_column=column, end_row=bottom, end_column=column)
        else:
            heading(top, column, group)
            sheet.merge_cells(start_row=top, start_column=column, end_row=top,
                              end_column=column + len(members) - 1)
            for offset, member in enumerate(members):
                heading(bottom, column + offset, member.heading)
        column += len(members)
    # Borders on every heading cell, merged ones included, so the form's grid shows.
    for row in sheet.iter_rows(min_row=top, max_row=bottom, max_col=width):
        for cell in row:
            cell.border = _box

    def write(row: int, lead: Sequence[object], counts: ProcessingCounts, held: StepCounts | None,
              bold: bool = False) -> None:
        values = row_values(counts, held if held is not None or steps is None else StepCounts())
        for column, value in enumerate([*lead, *(values[c.field] for c in columns)], start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.border = _box
            if bold:
                cell.font = Font(bold=True)
            if column > len(lead) and columns[column - len(lead) - 1].field in RATE_FIELDS:
                cell.number_format = "0.00"

    row = bottom + 1
    held = steps if steps is not None else [None] * len(rows)
    for number, ((key, label, counts), step) in enumerate(zip(rows, held, strict=True), start=1):
        write(row, [number, key, label], counts, step)
        row += 1
    write(row, [None, None, "Tổng cộng"], total, step_total, bold=True)

    sheet.column_dimensions["A"].width = 6
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["C"].width = 36
    for column in range(len(leading) + 1, width + 1):
        sheet.column_dimensions[get_column_letter(column)].width = 14
    sheet.row_dimensions[bottom].height = 60
    sheet.freeze_panes = sheet.cell(row=bottom + 1, column=len(leading) + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
