"""The greedy roster: the CP-SAT warm start, the fallback when the solver fails, and the benchmark's
baseline.

Two phases. First the weekly minimums, week by week, the hotspot with the fewest ways left first,
each patrol on the night and with the pair of squads that add the least burden; then, while some
patrol still raises the objective, the one that raises it most (exact deltas, kept incrementally, of
the best pair per hotspot-night). Every step keeps every hard rule, so the result is valid or None
(when phase one cannot place a minimum).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from coordinator.rosters.problem import (
    W_DISTRICT,
    W_ROTATION,
    W_SQUAD,
    W_STABILITY,
    Patrol,
    Problem,
    district_members,
)


class RosterState:
    """Patrols placed so far, with the counters the hard rules need."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.patrols: list[Patrol] = []
        self.busy: set[tuple[int, int]] = set()  # (squad, night)
        self.week_count: Counter[tuple[int, int]] = Counter()  # (squad, week)
        self.taken: set[tuple[int, int]] = set()  # (hotspot, night)
        self.pairs: Counter[tuple[int, int]] = Counter()
        self.loads: defaultdict[int, int] = defaultdict(int)
        self.week_patrols: Counter[tuple[int, int]] = Counter()  # (hotspot, week)
        self.rotation = problem.rotation_squads()
        self.districts = list(district_members(problem, self.rotation).values())

    def fairness(self, extra: dict[int, int]) -> int:
        """The two fairness terms with `extra` burden added to some squads."""
        heaviest = max((self.loads[q] + extra.get(q, 0) for q in self.rotation), default=0)
        averages = [sum(self.loads[q] + extra.get(q, 0) for q in qs) // len(qs) for qs in self.districts]
        return -W_SQUAD * heaviest - W_DISTRICT * max(averages, default=0)

    def gain(self, patrol: Patrol) -> int:
        """The exact change of the objective if `patrol` were added (tests compare it to evaluate)."""
        p = self.problem
        night = p.nights[patrol.night]
        extra = {patrol.squad_a: night.burden, patrol.squad_b: night.burden}
        return (
            p.coverage_value(patrol.hotspot, self.week_patrols[(patrol.hotspot, night.week)] + 1)
            + self.fairness(extra)
            - self.fairness({})
            + p.preference(patrol.squad_a, patrol.night)
            + p.preference(patrol.squad_b, patrol.night)
            - (W_ROTATION if self.pairs[(patrol.squad_a, patrol.squad_b)] else 0)
            + (W_STABILITY if patrol in p.previous else 0)
        )

    def squad_free(self, q: int, night: int) -> bool:
        p = self.problem
        if not p.available(q, night) or (q, night) in self.busy:
            return False
        if (q, night - 1) in self.busy or (q, night + 1) in self.busy:
            return False
        return self.week_count[(q, p.nights[night].week)] < p.squad(q).capacity

    def options(self, hotspot_id: int, night: int) -> list[tuple[int, int]]:
        if (hotspot_id, night) in self.taken:
            return []
        h = self.problem.hotspot(hotspot_id)
        side_a = [q for q in h.side_a if self.squad_free(q, night)]
        side_b = [q for q in h.side_b if self.squad_free(q, night)]
        return [(a, b) for a in side_a for b in side_b]

    def pair_cost(self, a: int, b: int, night: int) -> tuple[int, int, int, int]:
        """Lower is better: repeated pairing, added load, dislike of the weekday, ids (determinism)."""
        p = self.problem
        pref = p.preference(a, night) + p.preference(b, night)
        return (self.pairs[(a, b)], self.loads[a] + self.loads[b] - pref, a, b)

    def add(self, patrol: Patrol) -> None:
        week = self.problem.nights[patrol.night].week
        self.patrols.append(patrol)
        self.taken.add((patrol.hotspot, patrol.night))
        self.pairs[(patrol.squad_a, patrol.squad_b)] += 1
        self.week_patrols[(patrol.hotspot, week)] += 1
        for q in patrol.squads:
            self.busy.add((q, patrol.night))
            self.week_count[(q, week)] += 1
            self.loads[q] += self.problem.nights[patrol.night].burden


def greedy(problem: Problem) -> list[Patrol] | None:
    """A valid roster, or None if the greedy cannot meet the weekly minimums."""
    state = RosterState(problem)
    for patrol in problem.fixed:
        state.add(patrol)
    # Phase 1: weekly minimums, week by week; the hotspot with the fewest ways left goes first.
    for w in range(problem.weeks):
        while True:
            short = [
                h
                for h in problem.hotspots
                if sum((h.id, n) in state.taken for n in problem.week_nights(w))
                < (problem.required.get(h.id) or (0,) * problem.weeks)[w]
            ]
            if not short:
                break
            ways = {
                h.id: [(n, ab) for n in problem.week_nights(w) for ab in state.options(h.id, n)]
                for h in short
            }
            h = min(short, key=lambda h: (len(ways[h.id]), -h.weight, h.id))
            if not ways[h.id]:
                return None
            n, (a, b) = min(
                ways[h.id], key=lambda way: (state.pair_cost(way[1][0], way[1][1], way[0]), way[0])
            )
            state.add(Patrol(h.id, n, a, b))
    # Phase 2: add the patrol with the best exact objective gain while one gains anything.
    while True:
        best_gain, best_patrol = 0, None
        for h in problem.hotspots:
            for night in problem.nights:
                options = state.options(h.id, night.index)
                if not options:
                    continue
                a, b = min(options, key=lambda ab: state.pair_cost(ab[0], ab[1], night.index))
                patrol = Patrol(h.id, night.index, a, b)
                gain = state.gain(patrol)
                if gain > best_gain or (
                    gain == best_gain and best_patrol is not None and patrol < best_patrol
                ):
                    best_gain, best_patrol = gain, patrol
        if best_patrol is None:
            break
        state.add(best_patrol)
    return sorted(state.patrols)
