"""The roster solvers on generated problems: every roster the CP-SAT solver or the greedy produces
satisfies every hard rule (hypothesis), the solver's objective is `evaluate`'s, published shifts stay,
and an impossible problem is refused with the rule, squads and nights."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.rosters.greedy import RosterState, greedy
from coordinator.rosters.problem import (
    HotspotSpec,
    Night,
    Patrol,
    Problem,
    SquadSpec,
    evaluate,
    required_minimums,
    violations,
)
from coordinator.rosters.solver import RosterInfeasible, _build, lp_bound, solve

START = date(2026, 12, 7)


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    weeks = draw(st.integers(1, 2))
    nights = tuple(
        Night(i, START + timedelta(days=i), draw(st.sampled_from((10, 15, 20))), "normal")
        for i in range(7 * weeks)
    )
    squads = []
    for district in ("A", "B"):
        for _ in range(draw(st.integers(1, 4))):
            sid = len(squads) + 1
            squads.append(
                SquadSpec(
                    sid,
                    f"SQ{sid}",
                    f"中队{sid}",
                    district,
                    draw(st.integers(0, 3)),
                    frozenset(draw(st.sets(st.integers(0, len(nights) - 1), max_size=4))),
                    draw(st.dictionaries(st.integers(0, 6), st.integers(-2, 2), max_size=2)),
                    draw(st.booleans()),
                )
            )
    side_a = [s.id for s in squads if s.district == "A"]
    side_b = [s.id for s in squads if s.district == "B"]
    hotspots = []
    for h in range(draw(st.integers(1, 3))):
        a = draw(st.lists(st.sampled_from(side_a), min_size=1, unique=True))
        b = draw(st.lists(st.sampled_from(side_b), min_size=1, unique=True))
        weight = draw(st.floats(1.0, 5.0))
        hotspots.append(
            HotspotSpec(
                h + 1,
                f"热点{h + 1}",
                ("A", "B"),
                weight,
                draw(st.integers(0, 2)),
                tuple(sorted(a)),
                tuple(sorted(b)),
            )
        )
    required, _, _ = required_minimums(nights, squads, hotspots)
    base = Problem(nights, tuple(squads), tuple(hotspots), required=required)
    # Some earlier roster for the stability term: any patrols, valid or not.
    previous = frozenset(
        Patrol(h.id, draw(st.integers(0, len(nights) - 1)), h.side_a[0], h.side_b[0])
        for h in hotspots
        if draw(st.booleans())
    )
    return Problem(base.nights, base.squads, base.hotspots, previous=previous, required=required)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_roster_from_the_solver_or_the_greedy_keeps_every_hard_rule(problem: Problem) -> None:
    found = greedy(problem)
    if found is not None:
        assert violations(problem, found) == []
    try:
        solution = solve(problem, time_limit_s=2.0, workers=1)
    except RosterInfeasible as exc:
        assert found is None  # the greedy cannot succeed where no roster exists
        assert exc.violations and all(v.rule for v in exc.violations)
        return
    assert violations(problem, solution.patrols) == []
    assert solution.objective == evaluate(problem, solution.patrols).objective
    if found is not None:  # the production answer is never worse than the greedy
        assert solution.objective >= evaluate(problem, found).objective
    if solution.bound is not None:
        assert solution.bound >= solution.objective - 1e-6


@settings(max_examples=20, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_the_greedys_incremental_gain_is_the_change_of_evaluate(problem: Problem, rnd) -> None:  # type: ignore[no-untyped-def]
    state = RosterState(problem)
    for _ in range(6):
        options = [
            Patrol(h.id, n.index, a, b)
            for h in problem.hotspots
            for n in problem.nights
            for a, b in state.options(h.id, n.index)
        ]
        if not options:
            break
        patrol = rnd.choice(options)
        before = evaluate(problem, state.patrols).objective
        assert state.gain(patrol) == evaluate(problem, [*state.patrols, patrol]).objective - before
        state.add(patrol)


def small() -> Problem:
    nights = tuple(Night(i, START + timedelta(days=i), 10, "normal") for i in range(7))
    squads = (
        SquadSpec(1, "A1", "甲一", "A", 2),
        SquadSpec(2, "A2", "甲二", "A", 2),
        SquadSpec(3, "B1", "乙一", "B", 2),
        SquadSpec(4, "B2", "乙二", "B", 2),
    )
    hotspots = (HotspotSpec(1, "沟渠", ("A", "B"), 3.0, 1, (1, 2), (3, 4)),)
    required, _, _ = required_minimums(nights, squads, hotspots)
    return Problem(nights, squads, hotspots, required=required)


def test_published_shifts_stay_and_count_against_capacity() -> None:
    base = small()
    fixed = (Patrol(1, 3, 1, 3),)
    problem = Problem(base.nights, base.squads, base.hotspots, fixed=fixed, required=base.required)
    solution = solve(problem, time_limit_s=2.0, workers=1)
    assert set(fixed) <= set(solution.patrols)
    assert not any(p.night in (2, 4) and 1 in p.squads for p in solution.patrols)  # no back-to-back
    assert violations(problem, solution.patrols) == []
    # A published shift that is no longer possible is named, not silently dropped.
    on_leave = tuple(
        SquadSpec(s.id, s.code, s.name, s.district, s.capacity, frozenset({3}) if s.id == 1 else frozenset())
        for s in base.squads
    )
    broken = Problem(base.nights, on_leave, base.hotspots, fixed=fixed, required=base.required)
    with pytest.raises(RosterInfeasible) as caught:
        solve(broken, time_limit_s=2.0, workers=1)
    [violation] = caught.value.violations
    assert (violation.rule, violation.squads, violation.nights) == ("availability", (1,), (3,))


def test_a_side_without_any_available_squad_is_a_shortage_naming_squads_and_nights() -> None:
    base = small()
    away = tuple(
        SquadSpec(
            s.id,
            s.code,
            s.name,
            s.district,
            s.capacity,
            frozenset(range(7)) if s.district == "B" else frozenset(),
        )
        for s in base.squads
    )
    _, shortages, _ = required_minimums(base.nights, away, base.hotspots)
    [shortage] = shortages
    assert shortage.side == "B" and set(shortage.squads) == {3, 4} and shortage.nights == tuple(range(7))


def test_the_lp_bound_is_a_bound_and_the_greedy_solver_choice_is_honoured() -> None:
    problem = small()
    solution = solve(problem, time_limit_s=5.0, workers=1)
    assert solution.solver == "cp-sat" and solution.status == "OPTIMAL"
    bound = lp_bound(_build(problem).model)
    assert bound is not None and bound >= solution.objective - 1e-6
    alone = solve(problem, solver="greedy")
    assert alone.solver == "greedy" and alone.bound is None and violations(problem, alone.patrols) == []
