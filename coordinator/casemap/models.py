"""The case map's count table: cases per fine grid cell × status.

Kept by database triggers on `case_file` (migration 0016), in the transaction that writes the case, so it
always equals a recount of case_file whatever writes it (intake, lifecycle UPDATEs, bulk import,
retention deletes, raw SQL). The layer sums it for every zoom up to FINE_ZOOM
(coordinator/casemap/services.py); the cells of coarser zooms are unions of whole fine cells.
"""

from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import Base

# The fine grid: the cluster cells of zoom 13 (360 / 2^15 degrees, ~1.1 km; an exact binary fraction, so
# the triggers, the layer and a recount compute the same cell of a point).
FINE_ZOOM = 13
FINE_CELL_DEG = 360.0 / 2**15  # 0.010986328125


class CaseMapCell(Base):
    """How many cases (and the sums of their coordinates) one fine cell holds per status. Rows whose count
    falls to zero are deleted.

    Only status: every further dimension multiplies the rows a view sums (with category and border pair
    the million synthetic cases filled 169,007 rows, 38,007 of them in a district's box, 0.19 s to sum on
    PostgreSQL; per status alone at most 8 a cell). The other filters read case_file
    (coordinator/casemap/services.py)."""

    __tablename__ = "case_map_cell"

    cell_y: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_x: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    lon_sum: Mapped[float] = mapped_column(Float)
    lat_sum: Mapped[float] = mapped_column(Float)
