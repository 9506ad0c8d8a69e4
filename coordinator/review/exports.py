"""Exports of the review: the grouped figures and the case list as CSV (UTF-8 with BOM, which Excel
opens with Chinese intact) and XLSX with the same columns and Chinese headers, and the case list as
GeoJSON.

Case lists are streamed: rows come from the database in batches (`yield_per`; a server-side cursor on
PostgreSQL) and leave as chunks of a generator response. XLSX goes through XlsxWriter's
`constant_memory` mode, which flushes each row to a temporary file; the finished workbook is then sent
in chunks — memory stays flat whatever the size, the first byte leaves once the workbook is complete.
At most `MAX_EXPORT_ROWS` cases per export (checked with a count before anything is sent).

No reporter contact data is in any export: the columns are fixed by `CaseExportRow` (no reporter name
or phone, no free-text descriptions, which may hold numbers people typed).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
import xlsxwriter
from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, aliased

from coordinator.cases.models import Case, Category, Report
from coordinator.cases.queries import is_overdue
from coordinator.errors import ValidationFailed
from coordinator.review.services import (
    FINISHED_STATUSES,
    SOURCE_NAMES,
    Figures,
    Period,
    Review,
    Scope,
    district_names,
    pair_label,
)
from coordinator.squads.models import Squad
from coordinator.worktime import SHANGHAI

MAX_EXPORT_ROWS = 100_000
BATCH = 1000
CHUNK_BYTES = 64 * 1024
BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_NAMES = {
    "reported": "已上报",
    "routed": "已派遣",
    "claimed": "已认领",
    "in_progress": "处置中",
    "resolved": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "void": "已作废",
}
YES_NO = {True: "是", False: "否"}


class CaseExportRow(BaseModel):
    """One case in an export; each field's title is its Chinese column header (CSV and XLSX alike)."""

    number: str = Field(title="案卷编号")
    status: str = Field(title="状态")
    category: str = Field(title="类别代码")
    category_name: str = Field(title="类别")
    district: str | None = Field(title="所属区")
    in_border_zone: str = Field(title="交界地带")
    border_pair: str | None = Field(title="交界区对")
    lead_squad: str | None = Field(title="主办中队")
    source: str | None = Field(title="首报来源")
    report_count: int = Field(title="上报次数")
    lon: float = Field(title="经度（WGS-84）")
    lat: float = Field(title="纬度（WGS-84）")
    created_at: str = Field(title="立案时间")
    claim_by: str | None = Field(title="认领时限")
    resolve_by: str | None = Field(title="处置时限")
    claimed_at: str | None = Field(title="认领时间")
    resolved_at: str | None = Field(title="处置完成时间")
    closed_at: str | None = Field(title="结案时间")
    claim_work_h: float | None = Field(title="认领用时（工作小时）")
    close_work_h: float | None = Field(title="结案用时（工作小时）")
    overdue: str = Field(title="当前超期")
    escalated: str = Field(title="已升级")
    synthetic: str = Field(title="演示数据")


CASE_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (name, info.title or name) for name, info in CaseExportRow.model_fields.items()
)

SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("new", "新立案件"),
    ("open", "未办结"),
    ("closed", "已结案"),
    ("void", "已作废"),
    ("overdue", "当前超期"),
    ("transferred", "已移交"),
    ("transfer_declined", "移交被拒"),
    ("escalated", "已升级"),
    ("in_border_zone", "交界地带案件"),
    ("border_zone_share", "交界地带占比"),
    ("repeat_location", "重复点位案件"),
    ("sla_met", "按时办结"),
    ("sla_breached", "超时"),
    ("sla_pending", "在办未超时"),
    ("sla_compliance", "按时率"),
    ("claim_h_median", "认领用时中位数（工作小时）"),
    ("claim_h_p90", "认领用时P90（工作小时）"),
    ("close_h_median", "结案用时中位数（工作小时）"),
    ("close_h_p90", "结案用时P90（工作小时）"),
)


def summary_table(review: Review, group_header: str) -> tuple[list[str], list[list[Any]]]:
    """The grouped review as a header and rows (the total last)."""
    headers = [group_header, *[header for _, header in SUMMARY_COLUMNS]]

    def values(figures: Figures) -> list[Any]:
        return [getattr(figures, name) for name, _ in SUMMARY_COLUMNS]

    rows = [[row.label, *values(row.figures)] for row in review.rows]
    rows.append(["合计", *values(review.total)])
    return headers, rows


# -- case rows -------------------------------------------------------------------------------------


def case_export_statement(period: Period, scope: Scope, status: str | None) -> Select[*tuple[Any, ...]]:
    """The cases opened in the period (in scope), oldest first, with what the export shows."""
    opening = aliased(Report)
    stmt = (
        select(
            Case, Category.name_zh.label("category_name"), Squad.name_zh.label("squad_name"), opening.source
        )
        .join(Category, Category.code == Case.category_code)
        .outerjoin(Squad, Squad.id == Case.lead_squad_id)
        .outerjoin(opening, and_(opening.case_id == Case.id, opening.merged.is_(False)))
        .where(Case.created_at >= period.start, Case.created_at < period.end, *scope.conditions())
        .order_by(Case.created_at, Case.id)
    )
    if status is not None:
        stmt = stmt.where(Case.status == status)
    return stmt


def count_export(session: Session, period: Period, scope: Scope, status: str | None) -> int:
    """How many cases an export would hold; 422 `export_too_large` past MAX_EXPORT_ROWS."""
    stmt = select(func.count()).where(
        Case.created_at >= period.start, Case.created_at < period.end, *scope.conditions()
    )
    if status is not None:
        stmt = stmt.where(Case.status == status)
    total = int(session.scalar(stmt) or 0)
    if total > MAX_EXPORT_ROWS:
        raise ValidationFailed(
            f"an export holds at most {MAX_EXPORT_ROWS:,} cases; this one would hold {total:,}: "
            "choose a shorter period or a narrower scope",
            code="export_too_large",
            details={"rows": total, "limit": MAX_EXPORT_ROWS},
        )
    return total


def _local(value: datetime | None) -> str | None:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else None


def case_rows(session: Session, stmt: Select[*tuple[Any, ...]], *, now: datetime) -> Iterator[CaseExportRow]:
    """Export rows, fetched `BATCH` at a time."""
    names = district_names(session)
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    for case, category_name, squad_name, source in result:
        pair = (case.border_pair_a, case.border_pair_b) if case.border_pair_a else None
        yield CaseExportRow(
            number=case.number,
            status=STATUS_NAMES.get(case.status, case.status),
            category=case.category_code,
            category_name=category_name,
            district=names.get(case.district_code, case.district_code) if case.district_code else None,
            in_border_zone=YES_NO[bool(case.in_border_zone)],
            border_pair=pair_label(pair, names) if pair else None,
            lead_squad=squad_name,
            source=SOURCE_NAMES.get(source, source) if source else None,
            report_count=case.report_count,
            lon=case.lon,
            lat=case.lat,
            created_at=_local(case.created_at) or "",
            claim_by=_local(case.claim_by),
            resolve_by=_local(case.resolve_by),
            claimed_at=_local(case.claimed_at),
            resolved_at=_local(case.resolved_at) if case.status in FINISHED_STATUSES else None,
            closed_at=_local(case.closed_at),
            claim_work_h=case.claim_work_h,
            close_work_h=case.close_work_h if case.status == "closed" else None,
            overdue=YES_NO[is_overdue(case, now)],
            escalated=YES_NO[case.escalated_at is not None],
            synthetic=YES_NO[bool(case.synthetic)],
        )
        session.expunge(case)  # keep the identity map flat while streaming


def case_feature(row: CaseExportRow) -> dict[str, Any]:
    """A case export row as a GeoJSON Point feature (the same fields as properties)."""
    return {
        "type": "Feature",
        "id": row.number,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": row.model_dump(),
    }


# -- writers ---------------------------------------------------------------------------------------


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """CSV in UTF-8 with a BOM, in chunks of about CHUNK_BYTES."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str) -> Iterator[bytes]:
    """An XLSX workbook written in constant memory to a temporary file, then sent in chunks."""
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="jiaojie-export-")
    os.close(fd)
    try:
        workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_urls": False})
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        worksheet.write_row(0, 0, list(headers), bold)
        worksheet.freeze_panes(1, 0)
        for index, row in enumerate(rows, start=1):
            worksheet.write_row(index, 0, ["" if v is None else v for v in row])
        workbook.close()
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                yield chunk
    finally:
        os.unlink(path)


def geojson_chunks(features: Iterable[dict[str, Any]], **members: Any) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection, one feature at a time (`members` go before the features)."""
    head = orjson.dumps({"type": "FeatureCollection", **members})
    yield head[:-1] + b',"features":['
    first = True
    for feature in features:
        yield (b"" if first else b",") + orjson.dumps(feature)
        first = False
    yield b"]}"


def case_table_rows(rows: Iterable[CaseExportRow]) -> Iterator[list[Any]]:
    """Export rows as lists in column order."""
    for row in rows:
        data = row.model_dump()
        yield [data[name] for name, _ in CASE_COLUMNS]
