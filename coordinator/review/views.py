"""Review API: the committee's figures per border pair, district, squad, category, source or week, their
exports (CSV, XLSX, GeoJSON, a printable report page), repeat locations, hotspots with their trend and
joint-patrol coverage. Thin views over coordinator.review.services and .exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, render_template, stream_with_context

from coordinator.api import GEOJSON, endpoint
from coordinator.extensions import db_session, get_sessionmaker
from coordinator.review import caseload, exports, renovation, services
from coordinator.review.schemas import (
    CaseExportCollection,
    CaseExportQuery,
    CoverageSectionOut,
    ExportQuery,
    HotspotsSectionOut,
    PeriodQuery,
    RenovationReviewOut,
    RenovationReviewQuery,
    RepeatLocationsOut,
    ReviewOut,
    ReviewQuery,
)
from coordinator.worktime import SHANGHAI

bp = Blueprint("review", __name__)

FILE_HELP = {
    "text/csv": "UTF-8 with BOM; Chinese column headers",
    exports.XLSX_TYPE: "one worksheet; the same columns and Chinese headers as the CSV",
}


@bp.app_template_filter("fmt")
def format_figure(value: Any, name: str = "") -> str:
    """A figure for the report page: shares as percentages, hours with two decimals, none as —."""
    if value is None:
        return "—"
    if name.endswith(("_share", "_compliance")):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@bp.app_template_filter("local")
def local_time(value: datetime | None) -> str:
    """A stored time in Asia/Shanghai, to the minute."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if value else "—"


def period_payload(period: services.Period) -> dict[str, Any]:
    """A period as the API shows it."""
    return {"from": period.first, "to": period.last, "label": period.label()}


def scope_payload(scope: services.Scope) -> dict[str, Any]:
    """A scope as the API shows it."""
    return {
        "border_pair": list(scope.border_pair) if scope.border_pair else None,
        "district": scope.district,
        "joint_only": scope.joint_only,
    }


def figures_payload(figures: services.Figures) -> dict[str, Any]:
    """Figures with their derived shares."""
    return {
        **{name: getattr(figures, name) for name in services.COUNTS},
        "border_zone_share": figures.border_zone_share,
        "sla_compliance": figures.sla_compliance,
        "claim_h_median": figures.claim_h_median,
        "claim_h_p90": figures.claim_h_p90,
        "close_h_median": figures.close_h_median,
        "close_h_p90": figures.close_h_p90,
    }


def hotspots_payload(section: caseload.HotspotTrends) -> dict[str, Any]:
    """Hotspots with their trend."""
    return {
        "available": section.available,
        "reason": section.reason,
        "rule": section.rule,
        "compared": {"start": section.compared[0], "end": section.compared[1]},
        "previous": {"start": section.previous[0], "end": section.previous[1]},
        "items": [item.__dict__ for item in section.items],
    }


def coverage_counts(counts: caseload.Coverage) -> dict[str, Any]:
    """Planned, due, done, missed, rate, cases found."""
    return {
        "planned": counts.planned,
        "due": counts.due,
        "done": counts.done,
        "missed": counts.missed,
        "rate": counts.rate,
        "cases_found": counts.cases_found,
    }


def coverage_payload(section: caseload.PatrolCoverage, names: dict[str, str]) -> dict[str, Any]:
    """Joint-patrol coverage per hotspot and per border pair."""
    return {
        "available": section.available,
        "reason": section.reason,
        "as_of": section.as_of,
        "items": [
            {
                "id": h.id,
                "name": h.name,
                "kind": h.kind,
                "border_pair": h.border_pair,
                "coverage": coverage_counts(h.coverage),
            }
            for h in section.items
        ],
        "pairs": [
            {
                "border_pair": p.border_pair,
                "label": services.pair_label(services.border_pair_key(p.border_pair), names),
                "hotspots": p.hotspots,
                "coverage": coverage_counts(p.coverage),
            }
            for p in section.pairs
        ],
        "total": coverage_counts(section.total),
    }


def review_payload(review: services.Review) -> dict[str, Any]:
    """The grouped review, with the hotspot and patrol sections."""
    session = db_session()
    return {
        "period": period_payload(review.period),
        "scope": scope_payload(review.scope),
        "group_by": review.group_by,
        "generated_at": review.now,
        "rows": [
            {"key": row.key, "label": row.label, "figures": figures_payload(row.figures)}
            for row in review.rows
        ],
        "total": figures_payload(review.total),
        "hotspots": hotspots_payload(
            caseload.hotspots_with_trend(session, review.period, scope=review.scope, now=review.now)
        ),
        "patrol_coverage": coverage_payload(
            caseload.patrol_coverage(session, review.period, scope=review.scope, now=review.now),
            services.district_names(session),
        ),
    }


def _review(query: ReviewQuery, now: datetime) -> services.Review:
    return services.review(db_session(), query.period(now), query.group_by, now=now, scope=query.scope())


def attachment(chunks: Iterator[bytes], mimetype: str, filename: str) -> Response:
    """A streamed download (the generator keeps the request context until it is done)."""
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _file_name(kind: str, period: services.Period, extension: str) -> str:
    return f"{kind}_{period.first.isoformat()}_{period.last.isoformat()}.{extension}"


@bp.get("/review/summary")
@endpoint(
    summary="The committee's review: figures per border pair, district, squad, category, source or week",
    description="Counts the cases opened in the period as they stand now; durations are working hours "
    "on the SLA clock. See docs/review.md for every definition.",
    tags=["review"],
    query=ReviewQuery,
    response=ReviewOut,
)
def review_summary(query: ReviewQuery) -> dict[str, Any]:
    return review_payload(_review(query, datetime.now(SHANGHAI)))


@bp.get("/review/summary/export")
@endpoint(
    summary="The grouped review as CSV (UTF-8 with BOM) or XLSX, Chinese headers, the total last",
    tags=["review"],
    query=ExportQuery,
    files=FILE_HELP,
)
def export_summary(query: ExportQuery) -> Response:
    review = _review(query, datetime.now(SHANGHAI))
    headers, rows = exports.summary_table(review, services.GROUPINGS[query.group_by])
    name = _file_name(f"联席会议审阅_{query.group_by}", review.period, query.format)
    if query.format == "xlsx":
        return attachment(exports.xlsx_chunks(headers, rows, sheet="审阅"), exports.XLSX_TYPE, name)
    return attachment(exports.csv_chunks(headers, rows), exports.CSV_TYPE, name)


@bp.get("/review/cases/export")
@endpoint(
    summary="The cases opened in a period as CSV, XLSX or GeoJSON, streamed (no reporter data)",
    description=f"At most {exports.MAX_EXPORT_ROWS:,} cases per export: a larger one answers 422 "
    "`export_too_large` with the count, before anything is sent. Columns: "
    + ", ".join(f"{title} ({name})" for name, title in exports.CASE_COLUMNS)
    + ". No reporter name, phone or free text.",
    tags=["review"],
    query=CaseExportQuery,
    files=FILE_HELP,
    alternatives={GEOJSON: CaseExportCollection},
)
def export_cases(query: CaseExportQuery) -> Response:
    now = datetime.now(SHANGHAI)
    period, scope = query.period(now), query.scope()
    exports.count_export(db_session(), period, scope, query.status)
    factory = get_sessionmaker()
    fmt = query.format

    def chunks() -> Iterator[bytes]:
        # Its own session: the rows are read while the response is being sent.
        with factory() as session:
            stmt = exports.case_export_statement(period, scope, query.status)
            rows = exports.case_rows(session, stmt, now=now)
            if fmt == "geojson":
                features = (exports.case_feature(r) for r in rows)
                yield from exports.geojson_chunks(features, period=period_payload(period))
            elif fmt == "xlsx":
                headers = [title for _, title in exports.CASE_COLUMNS]
                yield from exports.xlsx_chunks(headers, exports.case_table_rows(rows), sheet="案件")
            else:
                headers = [title for _, title in exports.CASE_COLUMNS]
                yield from exports.csv_chunks(headers, exports.case_table_rows(rows))

    mimetype = {"csv": exports.CSV_TYPE, "xlsx": exports.XLSX_TYPE, "geojson": GEOJSON}[fmt]
    return attachment(chunks(), mimetype, _file_name("案件", period, fmt))


@bp.get("/review/repeat-locations")
@endpoint(
    summary="Places where a problem came back: two or more cases of one category in ~100 m, or reopened",
    tags=["review"],
    query=PeriodQuery,
    response=RepeatLocationsOut,
)
def repeat_locations(query: PeriodQuery) -> dict[str, Any]:
    period, scope = query.period(datetime.now(SHANGHAI)), query.scope()
    locations = caseload.repeat_locations(db_session(), period, scope=scope)
    return {
        "period": period_payload(period),
        "scope": scope_payload(scope),
        "locations": [loc.__dict__ for loc in locations],
    }


@bp.get("/review/hotspots")
@endpoint(
    summary="Hotspots with their trend: dumping cases near each in the period vs the previous equal period",
    description="Rising / falling / flat by the rule in `rule` (docs/review.md); rising hotspots first.",
    tags=["review"],
    query=PeriodQuery,
    response=HotspotsSectionOut,
)
def hotspots(query: PeriodQuery) -> dict[str, Any]:
    now = datetime.now(SHANGHAI)
    period, scope = query.period(now), query.scope()
    section = caseload.hotspots_with_trend(db_session(), period, scope=scope, now=now)
    return {
        "period": period_payload(period),
        "scope": scope_payload(scope),
        "section": hotspots_payload(section),
    }


@bp.get("/review/patrol-coverage")
@endpoint(
    summary="Joint-patrol coverage: planned shifts vs patrol logs per hotspot and border pair",
    description="Shifts of published rosters on the period's nights; a night is due once it is over.",
    tags=["review"],
    query=PeriodQuery,
    response=CoverageSectionOut,
)
def patrol_coverage(query: PeriodQuery) -> dict[str, Any]:
    now = datetime.now(SHANGHAI)
    session = db_session()
    period, scope = query.period(now), query.scope()
    section = caseload.patrol_coverage(session, period, scope=scope, now=now)
    return {
        "period": period_payload(period),
        "scope": scope_payload(scope),
        "section": coverage_payload(section, services.district_names(session)),
    }


def renovation_payload(review: renovation.RenovationReview, names: dict[str, str]) -> dict[str, Any]:
    """Renovation filings and spot checks per district and month, as the API shows them."""
    return {
        "period": period_payload(review.period),
        "districts": review.districts,
        "rows": [
            {
                "district": row.district,
                "label": names.get(row.district or "", row.district or "—"),
                "month": row.month,
                "filings": row.counts.filings,
                "spot_checks": row.counts.spot_checks,
            }
            for row in review.rows
        ],
        "total": {"filings": review.total.filings, "spot_checks": review.total.spot_checks},
    }


@bp.get("/review/renovation")
@endpoint(
    summary="Renovation filings per district and month by state, and 城管 spot-check outcomes (counts only)",
    description="Filings filed in the period (by local month) as they stand now, and spot checks (抽查) "
    "done in it: passed, failed and the cases failed ones opened. A district is the compound's. No "
    "compound, flat or person. See docs/review.md.",
    tags=["review"],
    query=RenovationReviewQuery,
    response=RenovationReviewOut,
)
def renovation_review(query: RenovationReviewQuery) -> dict[str, Any]:
    session = db_session()
    period = query.period(datetime.now(SHANGHAI))
    review = renovation.renovation_review(session, period, districts=query.districts())
    return renovation_payload(review, services.district_names(session))


@bp.get("/review/report")
@endpoint(
    summary="Printable review page (HTML, A4) for a period and a border pair",
    description="The same figures as /review/summary (by week and by category), repeat locations and "
    "the overdue joint cases; print it from the browser (A4, print CSS).",
    tags=["review"],
    query=PeriodQuery,
    files={"text/html": "a printable page (A4)"},
)
def report(query: PeriodQuery) -> Response:
    now = datetime.now(SHANGHAI)
    session = db_session()
    period, scope = query.period(now), query.scope()
    names = services.district_names(session)
    by_pair = services.review(session, period, "border_pair", now=now, scope=scope)
    by_week = services.review(session, period, "week", now=now, scope=scope)
    by_category = services.review(session, period, "category", now=now, scope=scope)
    where = services.pair_label(scope.border_pair, names) if scope.border_pair else "全联盟"
    html = render_template(
        "review_report.html",
        title=f"联席会议案件审阅 · {where}",
        period=period,
        scope=scope,
        generated=now.strftime("%Y-%m-%d %H:%M"),
        columns=exports.SUMMARY_COLUMNS,
        tables=[("按交界区对", by_pair), ("按周", by_week), ("按类别", by_category)],
        repeats=caseload.repeat_locations(session, period, scope=scope, limit=20),
        overdue=caseload.overdue_joint_cases(session, scope, now=now, limit=100),
        hotspots=caseload.hotspots_with_trend(session, period, scope=scope, now=now),
        coverage=caseload.patrol_coverage(session, period, scope=scope, now=now),
        names=names,
    )
    return Response(html, mimetype="text/html")
