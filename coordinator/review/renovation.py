"""The committee's view of renovation filings (装修申报): per district and local month, the filings filed
in the period by the state each is in now (a cohort, like the case review), and the 城管 spot checks
(抽查) done in the period by outcome — passed, failed, and the cases the failed ones opened. Counts only:
no compound, flat, owner or contractor. Two grouped statements (`local_month` compiles for both
databases); a district is the compound's."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.community.models import FILING_STATES, Compound, Inspection, RenovationFiling
from coordinator.dialects import local_month
from coordinator.review.services import Period

SPOT_CHECK = "spot_check"


@dataclass
class Counts:
    """A district-month's (or the total's) filings by state and spot checks by outcome."""

    filings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("total", *FILING_STATES), 0))
    spot_checks: dict[str, int] = field(
        default_factory=lambda: {"total": 0, "passed": 0, "failed": 0, "cases_opened": 0}
    )

    def add_filings(self, state: str, count: int) -> None:
        self.filings[state] += count
        self.filings["total"] += count

    def add_checks(self, result: str, count: int, cases: int) -> None:
        self.spot_checks["passed" if result == "pass" else "failed"] += count
        self.spot_checks["total"] += count
        self.spot_checks["cases_opened"] += cases


@dataclass(frozen=True)
class Row:
    """One district in one month."""

    district: str | None
    month: str  # YYYY-MM, Asia/Shanghai
    counts: Counts


@dataclass(frozen=True)
class RenovationReview:
    """The rows (by district, then month) and their total."""

    period: Period
    districts: list[str] | None
    rows: list[Row]
    total: Counts


def renovation_review(
    session: Session, period: Period, *, districts: Collection[str] | None = None
) -> RenovationReview:
    """Filings filed in `period` by their state now, and spot checks done in it by outcome, per district
    and month; only `districts` (their compounds) when given."""
    by_key: dict[tuple[str | None, str], Counts] = {}
    total = Counts()

    filed_month = local_month(RenovationFiling.created_at)
    filings = (
        select(Compound.district_code, filed_month, RenovationFiling.state, func.count(RenovationFiling.id))
        .join(Compound, Compound.id == RenovationFiling.compound_id)
        .where(RenovationFiling.created_at >= period.start, RenovationFiling.created_at < period.end)
        .group_by(Compound.district_code, filed_month, RenovationFiling.state)
    )
    checked_month = local_month(Inspection.at)
    checks = (
        select(
            Compound.district_code,
            checked_month,
            Inspection.result,
            func.count(Inspection.id),
            func.count(Inspection.case_number),
        )
        .join(RenovationFiling, RenovationFiling.id == Inspection.filing_id)
        .join(Compound, Compound.id == RenovationFiling.compound_id)
        .where(Inspection.kind == SPOT_CHECK, Inspection.at >= period.start, Inspection.at < period.end)
        .group_by(Compound.district_code, checked_month, Inspection.result)
    )
    if districts is not None:
        filings = filings.where(Compound.district_code.in_(sorted(districts)))
        checks = checks.where(Compound.district_code.in_(sorted(districts)))

    for district, month, state, count in session.execute(filings):
        by_key.setdefault((district, month), Counts()).add_filings(state, int(count))
        total.add_filings(state, int(count))
    for district, month, result, count, cases in session.execute(checks):
        by_key.setdefault((district, month), Counts()).add_checks(result, int(count), int(cases))
        total.add_checks(result, int(count), int(cases))
    rows = [
        Row(district, month, counts)
        for (district, month), counts in sorted(by_key.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
    ]
    return RenovationReview(period, sorted(districts) if districts is not None else None, rows, total)
