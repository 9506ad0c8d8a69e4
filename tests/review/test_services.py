"""The review agrees with a direct recount from the cases table, for every grouping."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from coordinator.cases.queries import inbox, is_overdue
from coordinator.review import services
from coordinator.review.caseload import repeat_locations
from coordinator.review.services import Period, Scope
from coordinator.worktime import SHANGHAI
from tests.factories import make_user
from tests.review.conftest import KEYS, Caseload, recount, source_of

FIELDS = (*services.COUNTS, "claim_h_median", "claim_h_p90", "close_h_median", "close_h_p90")


def as_dict(figures: services.Figures) -> dict[str, float | int | None]:
    return {name: getattr(figures, name) for name in FIELDS}


def test_last_month_by_border_pair_equals_a_direct_recount(session: Session, caseload: Caseload) -> None:
    period = Period.last_month(caseload.now)
    assert (period.first, period.last) == (date(2026, 10, 1), date(2026, 10, 31))
    review = services.review(session, period, "border_pair", now=caseload.now)
    expected = recount(session, period, caseload.now, KEYS["border_pair"], caseload.cases)
    assert not _diff({row.key: as_dict(row.figures) for row in review.rows}, expected)
    # the data exercises the figures: joint cases in several pairs, closures, durations, SLA outcomes
    assert len([k for k in expected if k]) >= 2
    total = review.total
    assert total.new == sum(g["new"] for g in expected.values()) > 20  # type: ignore[misc]
    assert total.closed > 0 and total.sla_met > 0 and total.in_border_zone > 0
    assert total.claim_h_median is not None and total.close_h_p90 is not None
    assert total.new == total.open + total.closed + total.void + sum(
        1
        for c in caseload.cases
        if period.start <= c.created_at < period.end and c.status in ("resolved", "verified")
    )


def test_every_grouping_and_a_longer_period_agree_with_the_recount(
    session: Session, caseload: Caseload
) -> None:
    period = Period(date(2026, 9, 15), date(2026, 11, 20))  # all of the caseload, up to `now`
    keys = {**KEYS, "source": source_of(session)}
    for group_by, key in keys.items():
        review = services.review(session, period, group_by, now=caseload.now)
        expected = recount(session, period, caseload.now, key, caseload.cases)
        assert not _diff({row.key: as_dict(row.figures) for row in review.rows}, expected), group_by
    review = services.review(session, period, "border_pair", now=caseload.now)
    # the fixture's transfers, escalations and reopen are inside the period and are counted
    assert review.total.transferred == 1 and review.total.transfer_declined == 1
    assert review.total.escalated > 0 and review.total.overdue > 0 and review.total.repeat_location > 0
    # one border pair's scope holds that pair's figures
    pair_row = next(r for r in review.rows if r.key)
    a, b = pair_row.key.split("-")  # type: ignore[union-attr]
    scoped = services.review(session, period, "category", now=caseload.now, scope=Scope(border_pair=(a, b)))
    assert (scoped.total.new, scoped.total.overdue) == (pair_row.figures.new, pair_row.figures.overdue)
    assert "–" in pair_row.label  # 金山区–奉贤区
    # repeat locations: cells with two or more cases (or a reopened one), most cases first
    locations = repeat_locations(session, period)
    assert locations and all(loc.cases >= 2 or loc.reopened for loc in locations)
    assert [loc.cases for loc in locations] == sorted((loc.cases for loc in locations), reverse=True)
    assert len(locations[0].case_numbers) == min(locations[0].cases, 20)


def test_sla_compliance_agrees_with_the_inbox_overdue_flags(session: Session, caseload: Caseload) -> None:
    now = caseload.now
    period = Period(date(2026, 9, 15), date(2026, 11, 20))
    review = services.review(session, period, "district", now=now)
    alliance_dispatcher = make_user(session, "dispatcher")  # no district: sees every open case
    flagged = [c for c in inbox(session, alliance_dispatcher, now=now, limit=100_000) if is_overdue(c, now)]
    in_period = [c for c in flagged if period.start <= c.created_at < period.end]
    assert review.total.overdue == len(in_period) > 0
    # every case the inbox flags overdue counts against the SLA; none of them counts as met or pending
    cohort = [c for c in caseload.cases if period.start <= c.created_at < period.end and c.status != "void"]
    breached = {c.id for c in cohort if is_overdue(c, now)}
    assert breached == {c.id for c in in_period}
    assert review.total.sla_breached >= len(breached)
    met, late = review.total.sla_met, review.total.sla_breached
    assert review.total.sla_compliance == round(met / (met + late), 4)
    assert met + late + review.total.sla_pending == len(cohort)


def test_an_empty_period_has_zero_figures(session: Session) -> None:
    review = services.review(
        session,
        Period(date(1999, 1, 1), date(1999, 1, 31)),
        "week",
        now=datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    assert review.rows == [] and review.total.new == 0 and review.total.sla_compliance is None


def _diff(got: dict, want: dict) -> list[str]:  # type: ignore[type-arg]
    out = []
    for k in set(got) | set(want):
        for f in FIELDS:
            a, b = got.get(k, {}).get(f), want.get(k, {}).get(f)
            if a != b:
                out.append(f"{k} {f}: review {a} recount {b}")
    return out
