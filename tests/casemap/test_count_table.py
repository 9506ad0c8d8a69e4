"""case_map_cell equals a recount of case_file after every kind of write: inserts, status and position
changes (one row or many in one UPDATE), updates that change nothing it counts (category, border pair,
a column set to its own value), and deletes — its triggers run in the writing transaction on both
databases."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coordinator.casemap.models import FINE_CELL_DEG, CaseMapCell
from coordinator.cases.models import Case
from tests.casemap.test_api import put_cases

Key = tuple[int, int, str]


def recount(session: Session) -> tuple[Counter[Key], dict[Key, tuple[float, float]]]:
    """Cases per fine cell × status × category × pair, and their coordinate sums, from case_file."""
    counts: Counter[Key] = Counter()
    sums: dict[Key, tuple[float, float]] = {}
    for lon, lat, status in session.execute(select(Case.lon, Case.lat, Case.status)):
        key = (math.floor((lat + 90.0) / FINE_CELL_DEG), math.floor((lon + 180.0) / FINE_CELL_DEG), status)
        counts[key] += 1
        lon_sum, lat_sum = sums.get(key, (0.0, 0.0))
        sums[key] = (lon_sum + lon, lat_sum + lat)
    return counts, sums


def table(session: Session) -> tuple[Counter[Key], dict[Key, tuple[float, float]]]:
    counts: Counter[Key] = Counter()
    sums: dict[Key, tuple[float, float]] = {}
    for cell in session.scalars(select(CaseMapCell)):
        key = (cell.cell_y, cell.cell_x, cell.status)
        counts[key] = cell.count
        sums[key] = (cell.lon_sum, cell.lat_sum)
    return counts, sums


def assert_matches(session: Session) -> None:
    session.expire_all()
    counts, sums = recount(session)
    got_counts, got_sums = table(session)
    assert got_counts == counts
    assert all(n > 0 for n in got_counts.values())  # emptied rows are deleted
    for key, (lon_sum, lat_sum) in sums.items():
        assert math.isclose(got_sums[key][0], lon_sum, rel_tol=1e-12)
        assert math.isclose(got_sums[key][1], lat_sum, rel_tol=1e-12)


def test_the_count_table_follows_every_write(session: Session) -> None:
    assert_matches(session)  # whatever the database held (the seed has no cases)
    rows: list[dict[str, Any]] = put_cases(session, 150, seed=21)
    assert_matches(session)
    assert sum(table(session)[0].values()) >= 150
    numbers = [r["number"] for r in rows]

    def ids(some: list[str]) -> list[int]:
        return list(session.scalars(select(Case.id).where(Case.number.in_(some))))

    # One row: status (the lifecycle's conditional UPDATE), category, pair, position.
    session.execute(update(Case).where(Case.number == numbers[0]).values(status="claimed"))
    session.execute(update(Case).where(Case.number == numbers[1]).values(category_code="05-51"))
    session.execute(
        update(Case).where(Case.number == numbers[2]).values(border_pair_a="310116", border_pair_b="310120")
    )
    session.execute(
        update(Case).where(Case.number == numbers[3]).values(border_pair_a=None, border_pair_b=None)
    )
    session.execute(update(Case).where(Case.number == numbers[4]).values(lon=121.5, lat=31.0))
    session.commit()
    assert_matches(session)
    # Many rows in one statement; an UPDATE of watched columns to their own values; an unwatched column.
    session.execute(update(Case).where(Case.id.in_(ids(numbers[10:60]))).values(status="closed"))
    session.execute(update(Case).where(Case.id.in_(ids(numbers[60:70]))).values(status=Case.status))
    session.execute(update(Case).where(Case.id.in_(ids(numbers[70:80]))).values(lon=Case.lon + 0.02))
    session.execute(update(Case).where(Case.id.in_(ids(numbers[80:90]))).values(report_count=2))
    session.commit()
    assert_matches(session)
    # Deletes (retention): the rows of emptied cells go.
    session.execute(delete(Case).where(Case.id.in_(ids(numbers[:120]))))
    session.commit()
    assert_matches(session)
    session.execute(delete(Case).where(Case.id.in_(ids(numbers[120:]))))
    session.commit()
    assert_matches(session)
    assert not any(k[2] == "closed" for k in table(session)[0])  # all 150 gone, nothing else was closed
