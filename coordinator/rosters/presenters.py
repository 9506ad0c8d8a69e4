"""What a roster says about itself: shifts, why each hotspot got its nights, each squad's nights against
its capacity, the solver's numbers, and patrols done vs planned. Computed from the problem snapshot
stored with the roster and its current shifts, so it stays true after a dispatcher's changes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coordinator.hotspots.models import KIND_LABELS, Hotspot
from coordinator.rosters.context import problem_from_snapshot
from coordinator.rosters.greedy import RosterState
from coordinator.rosters.models import PatrolFinding, PatrolLog, Roster, RosterShift
from coordinator.rosters.problem import DECAY, Patrol, Problem, evaluate
from coordinator.rosters.services import patrols_of, planned, squads_of
from coordinator.squads.models import Squad


def squad_ref(squad: Squad) -> dict[str, Any]:
    """A squad as rosters show it."""
    return {"code": squad.code, "name": squad.name_zh, "district": squad.district_code}


def _patrol_stats(session: Session, shift_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Per shift: patrol logs recorded, cases found."""
    if not shift_ids:
        return {}, {}
    logs = dict(
        session.execute(
            select(PatrolLog.shift_id, func.count())
            .where(PatrolLog.shift_id.in_(shift_ids))
            .group_by(PatrolLog.shift_id)
        ).all()
    )
    found = dict(
        session.execute(
            select(PatrolLog.shift_id, func.count(PatrolFinding.id))
            .join(PatrolFinding, PatrolFinding.patrol_log_id == PatrolLog.id)
            .where(PatrolLog.shift_id.in_(shift_ids))
            .group_by(PatrolLog.shift_id)
        ).all()
    )
    return logs, found


def shift_json(
    shift: RosterShift,
    hotspot: Hotspot,
    squads: dict[int, Squad],
    logs: dict[int, int],
    found: dict[int, int],
) -> dict[str, Any]:
    """One shift."""
    return {
        "id": shift.id,
        "uid": shift.uid,
        "night": shift.night.isoformat(),
        "status": shift.status,
        "sequence": shift.sequence,
        "hotspot": {"id": hotspot.id, "name": hotspot.name, "kind": hotspot.kind},
        "squads": [squad_ref(squads[shift.squad_a_id]), squad_ref(squads[shift.squad_b_id])],
        "patrol_logs": logs.get(shift.id, 0),
        "cases_found": found.get(shift.id, 0),
    }


def _hotspot_reason(
    problem: Problem, state: RosterState, h_id: int, per_week: list[int], info: dict[str, Any]
) -> str:
    parts = [
        f"权重 {info['weight']:.2f}（近90天附近 {info['recent_cases']} 起偷倒案件）",
        f"每周至少 {info['min_per_week']} 次",
        "；".join(f"第{w + 1}周 {n} 次" for w, n in enumerate(per_week)),
        f"每周第 k 次巡查的价值 = 100×权重×{DECAY}^(k−1)",
    ]
    limited = []
    for w, _count in enumerate(per_week):
        if not any(state.options(h_id, n) for n in problem.week_nights(w)):
            limited.append(w + 1)
    if limited:
        weeks = "、".join(map(str, limited))
        parts.append(f"第{weeks}周再加一次：两侧没有空闲的中队（容量、请假或不连续值班规则）")
    else:
        nxt = problem.coverage_value(h_id, max(per_week, default=0) + 1)
        parts.append(f"再加一次价值约 {nxt}，不抵它给中队增加的负担（公平性）与配对重复的代价")
    return "；".join(parts)


def roster_json(session: Session, roster: Roster, *, with_shifts: bool = True) -> dict[str, Any]:
    """The full roster as the API shows it."""
    problem = problem_from_snapshot(roster.explanation["problem"])
    snap = roster.explanation["problem"]
    live = planned(roster)
    patrols = patrols_of(roster, live)
    every = [*patrols, *problem.fixed]
    current = evaluate(problem, every)
    wanted = {s.hotspot_id for s in roster.shifts}
    hotspot_rows = {h.id: h for h in session.scalars(select(Hotspot).where(Hotspot.id.in_(wanted)))}
    squad_rows = squads_of(session, list(roster.shifts))
    logs, found = _patrol_stats(session, [s.id for s in roster.shifts])
    state = RosterState(problem)
    for p in every:
        state.add(p)
    weeks = problem.weeks
    hotspots = []
    for info in snap["hotspots"]:
        mine = [s for s in live if s.hotspot_id == info["id"]]
        per_week = [
            sum(1 for p in every if p.hotspot == info["id"] and problem.nights[p.night].week == w)
            for w in range(weeks)
        ]
        hotspots.append(
            {
                "id": info["id"],
                "name": info["name"],
                "kind": info["kind"],
                "kind_label": KIND_LABELS.get(info["kind"], info["kind"]),
                "pair": info["pair"],
                "weight": info["weight"],
                "recent_cases": info["recent_cases"],
                "min_per_week": info["min_per_week"],
                "required_per_week": info["required"],
                "patrols_per_week": per_week,
                "nights": [s.night.isoformat() for s in mine],
                "patrols_planned": len(mine),
                "patrols_done": sum(1 for s in mine if logs.get(s.id)),
                "cases_found": sum(found.get(s.id, 0) for s in mine),
                "eligible_squads": {
                    info["pair"][0]: [problem.squad(q).code for q in info["side_a"]],
                    info["pair"][1]: [problem.squad(q).code for q in info["side_b"]],
                },
                "reason": _hotspot_reason(problem, state, info["id"], per_week, info),
            }
        )
    nights_by_squad: Counter[tuple[int, int]] = Counter()
    burden: Counter[int] = Counter()
    for p in every:
        for q in p.squads:
            nights_by_squad[(q, problem.nights[p.night].week)] += 1
            burden[q] += problem.nights[p.night].burden
    squads = []
    for s in snap["squads"]:
        per_week = [nights_by_squad[(s["id"], w)] for w in range(weeks)]
        if not any(per_week) and not s["unavailable"]:
            continue
        squads.append(
            {
                "code": s["code"],
                "name": s["name"],
                "district": s["district"],
                "capacity_per_week": s["capacity"],
                "nights_per_week": per_week,
                "within_capacity": all(n <= s["capacity"] for n in per_week),
                "burden": burden[s["id"]],
                "unavailable_nights": [snap["nights"][n]["date"] for n in s["unavailable"]],
            }
        )
    body: dict[str, Any] = {
        "id": roster.id,
        "period_start": roster.period_start.isoformat(),
        "period_end": roster.period_end.isoformat(),
        "status": roster.status,
        "origin": roster.origin,
        "created_at": roster.created_at,
        "published_at": roster.published_at,
        "solver": {
            "solver": roster.solver,
            "status": roster.solver_status,
            "seed": roster.seed,
            "time_limit_s": roster.time_limit_s,
            "solve_time_s": roster.solve_time_s,
            "objective": roster.objective,
            "bound": roster.bound,
            "gap": roster.gap,
            "breakdown": roster.breakdown,
        },
        "current": current.as_dict(),
        "nights": snap["nights"],
        "hotspots": hotspots,
        "squads": squads,
        "all_within_capacity": all(s["within_capacity"] for s in squads),
        "warnings": roster.warnings,
        "shift_count": len(live),
    }
    if with_shifts:
        body["shifts"] = [
            shift_json(s, hotspot_rows[s.hotspot_id], squad_rows, logs, found) for s in roster.shifts
        ]
    return body


def roster_summary(roster: Roster) -> dict[str, Any]:
    """A roster in a list."""
    return {
        "id": roster.id,
        "period_start": roster.period_start.isoformat(),
        "period_end": roster.period_end.isoformat(),
        "status": roster.status,
        "origin": roster.origin,
        "solver": roster.solver,
        "objective": roster.objective,
        "gap": roster.gap,
        "shift_count": len(planned(roster)),
        "created_at": roster.created_at,
        "published_at": roster.published_at,
    }


__all__ = ["Patrol", "roster_json", "roster_summary", "shift_json", "squad_ref"]
