"""Benchmark the roster solver: CP-SAT (production) against the greedy baseline, in the same run.

Generated instances (fixed seeds): 4 districts × 10 squads, 12 hotspots on the 4 member border pairs
(3 each; for each hotspot 5 of the 10 squads of each side are eligible — those along its border),
28 nights from Monday 2026-09-28 (the National Day holiday in week 1), 10 % of squad-nights
unavailable, weekday preferences for a quarter of the squads, weekly minimum 1 per hotspot. Two
capacity settings: slack (2–3 nights per squad per week) and tight (1 night per week).

Targets (docs/performance.md): CP-SAT's gap to its own bound ≤ 1 % within 30 s; the greedy never better
than CP-SAT. Prints one line per instance and solver, then "target met" or "target NOT met" honestly;
exits 1 when a target is not met.

    .venv/bin/python bench/roster.py [--time-limit 30] [--workers 2] [--seeds 1 2]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coordinator.rosters.greedy import greedy
from coordinator.rosters.problem import (
    BURDEN_EVE,
    BURDEN_HOLIDAY,
    BURDEN_NORMAL,
    HotspotSpec,
    Night,
    Problem,
    SquadSpec,
    evaluate,
    required_minimums,
    violations,
)
from coordinator.rosters.solver import solve

DISTRICTS = ("310115", "310116", "310117", "310120")
PAIRS = (("310116", "310120"), ("310115", "310120"), ("310116", "310117"), ("310117", "310120"))
START = date(2026, 9, 28)  # a Monday; 2026-10-01…07 is the National Day holiday (week 1)


def generate(
    seed: int, *, tight: bool, squads_per_district: int = 10, hotspots: int = 12, eligible: int = 5
) -> Problem:
    """One benchmark instance (deterministic for a seed)."""
    rng = random.Random(seed * 2 + int(tight))
    nights = []
    for i in range(28):
        day = START + timedelta(days=i)
        holiday = date(2026, 10, 1) <= day <= date(2026, 10, 7)
        eve = (day + timedelta(days=1)).weekday() >= 5
        burden = BURDEN_HOLIDAY if holiday else BURDEN_EVE if eve else BURDEN_NORMAL
        nights.append(Night(i, day, burden, "holiday" if holiday else "eve" if eve else "normal"))
    squads = []
    for d_index, district in enumerate(DISTRICTS):
        for k in range(squads_per_district):
            sid = d_index * 100 + k + 1
            unavailable = frozenset(n.index for n in nights if rng.random() < 0.10)
            prefs = {rng.randrange(7): rng.choice((-2, -1, 1, 2))} if rng.random() < 0.25 else {}
            capacity = 1 if tight else rng.choice((2, 3))
            squads.append(SquadSpec(sid, f"SQ{sid}", f"中队{sid}", district, capacity, unavailable, prefs))
    spots = []
    for i in range(hotspots):
        a, b = PAIRS[i % len(PAIRS)]
        # The squads of each side that the hotspot is near (a real hotspot is patrolled by the squads
        # along its stretch of border, not by every squad of the district).
        side_a = tuple(sorted(rng.sample([s.id for s in squads if s.district == a], eligible)))
        side_b = tuple(sorted(rng.sample([s.id for s in squads if s.district == b], eligible)))
        weight = round(1 + rng.expovariate(0.5), 2)
        spots.append(HotspotSpec(i + 1, f"热点{i + 1}", (a, b), weight, 1, side_a, side_b))
    required, shortages, _ = required_minimums(nights, squads, spots)
    assert not shortages, shortages
    return Problem(tuple(nights), tuple(squads), tuple(spots), required=required)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("instance        solver   objective       bound     gap    time_s  valid")
    failures = []
    for seed in args.seeds:
        for tight in (False, True):
            problem = generate(seed, tight=tight)
            name = f"seed {seed} {'tight' if tight else 'slack'}"
            started = time.perf_counter()
            baseline = greedy(problem)
            greedy_s = time.perf_counter() - started
            result = solve(problem, time_limit_s=args.time_limit, seed=seed, workers=args.workers)
            bound = result.bound
            if baseline is None:
                print(f"{name:<15} greedy   (no roster: weekly minimums not met)")
                greedy_obj = None
            else:
                greedy_obj = evaluate(problem, baseline).objective
                gap = (bound - greedy_obj) / max(1.0, abs(greedy_obj)) if bound is not None else None
                print(
                    f"{name:<15} greedy   {greedy_obj:>9} {bound or float('nan'):>11.0f} "
                    f"{(gap or 0) * 100:>6.2f}% {greedy_s:>8.2f}  {not violations(problem, baseline)}"
                )
            gap_text = f"{result.gap * 100:>6.2f}%" if result.gap is not None else "   n/a"
            print(
                f"{name:<15} {result.solver:<8} {result.objective:>9} {bound or float('nan'):>11.0f} "
                f"{gap_text} {result.solve_time_s:>8.2f}  {not violations(problem, result.patrols)}"
                f"  ({result.status})"
            )
            if result.solver != "cp-sat" or result.gap is None or result.gap > 0.01:
                failures.append(f"{name}: CP-SAT gap {result.gap} ({result.status}, {result.solver})")
            if result.solve_time_s > args.time_limit + 5:
                failures.append(f"{name}: took {result.solve_time_s:.1f} s")
            if greedy_obj is not None and greedy_obj > result.objective:
                failures.append(f"{name}: greedy {greedy_obj} better than solver {result.objective}")
    if failures:
        print("target NOT met:")
        for line in failures:
            print(f"  {line}")
        return 1
    print(f"target met: gap ≤ 1 % within {args.time_limit:g} s on every instance; greedy never better")
    return 0


if __name__ == "__main__":
    sys.exit(main())
