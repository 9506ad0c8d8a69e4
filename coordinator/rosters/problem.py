"""The joint night roster problem, free of the database: its data, hard rules and objective.

A *patrol* is one hotspot × one night × one squad from each side of the hotspot's border pair. The same
module checks rosters (`violations`) and scores them (`evaluate`), so the CP-SAT model, the greedy and
a dispatcher's hand edits are all judged by one definition. Coefficients are integers (CP-SAT needs
them); `evaluate` uses the very same numbers, so a solver's objective equals `evaluate(...)`.

Hard rules (docs/rosters.md):
  availability   a squad does not patrol on a night it is unavailable (leave, training, …)
  eligibility    the squads come from the two sides of the hotspot's border pair, eligible for it
  one_per_night  at most one patrol per squad per night, at most one patrol per hotspot per night
  capacity       at most `capacity` nights per squad per week (7-night blocks from the period start)
  back_to_back   no squad patrols two nights in a row (also across the period start)
  minimum        at least `required[h][w]` patrols of hotspot h in week w
  fixed          published shifts in the period stay as they are

Soft terms, maximised as one weighted sum:
  coverage       Σ_h Σ_w Σ_k 100·weight_h·DECAY^(k−1) over the k-th patrol of h in week w
  fairness_squads   −W_SQUAD · the heaviest burden of a squad in the rotation (min-max fairness)
  fairness_districts −W_DISTRICT · the heaviest district average ⌊Σ burden / squads⌋
  preferences    Σ W_PREF · preference(squad, weekday) per night patrolled (−2 … +2)
  rotation       −W_ROTATION · Σ_pairs max(0, times paired − 1)
  stability      +W_STABILITY per patrol identical to the previous roster's
where a night's burden is 10, 15 on the eve of a day off (weekends, 调休), 20 on a holiday night.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

DECAY = 0.5
W_SQUAD = 2
W_DISTRICT = 2
W_PREF = 10
W_ROTATION = 15
W_STABILITY = 10
BURDEN_NORMAL, BURDEN_EVE, BURDEN_HOLIDAY = 10, 15, 20
WEEK = 7
MAX_BACK_TO_BACK_FREE = 4  # at most 4 of 7 consecutive nights without two in a row

HARD_RULES = (
    "availability",
    "eligibility",
    "one_per_night",
    "capacity",
    "back_to_back",
    "minimum",
    "fixed",
)


@dataclass(frozen=True)
class Night:
    """One night of the period: index from 0, its date (the evening it starts), and its burden."""

    index: int
    day: date
    burden: int
    kind: str  # "normal" | "eve" (before a day off) | "holiday"

    @property
    def week(self) -> int:
        """The 7-night block of the period it belongs to."""
        return self.index // WEEK


@dataclass(frozen=True)
class SquadSpec:
    """A squad as the roster sees it."""

    id: int
    code: str
    name: str
    district: str
    capacity: int  # nights per week
    unavailable: frozenset[int] = frozenset()  # night indices
    preferences: Mapping[int, int] = field(default_factory=dict)  # weekday (0 = Monday) → −2 … +2
    busy_before: bool = False  # patrols the night before the period (a published shift)


@dataclass(frozen=True)
class HotspotSpec:
    """A hotspot: its border pair, weight, weekly minimum and eligible squads of each side."""

    id: int
    name: str
    pair: tuple[str, str]
    weight: float
    min_per_week: int
    side_a: tuple[int, ...]  # squad ids of district pair[0]
    side_b: tuple[int, ...]  # squad ids of district pair[1]


@dataclass(frozen=True, order=True)
class Patrol:
    """One patrol: hotspot id, night index, squad ids of side a and side b."""

    hotspot: int
    night: int
    squad_a: int
    squad_b: int

    @property
    def squads(self) -> tuple[int, int]:
        """Both squads."""
        return (self.squad_a, self.squad_b)


@dataclass(frozen=True)
class Violation:
    """A broken hard rule: which rule, the squads and nights involved, and a sentence."""

    rule: str
    message: str
    squads: tuple[int, ...] = ()
    nights: tuple[int, ...] = ()
    hotspots: tuple[int, ...] = ()


@dataclass(frozen=True)
class Problem:
    """Everything the solvers need."""

    nights: tuple[Night, ...]
    squads: tuple[SquadSpec, ...]
    hotspots: tuple[HotspotSpec, ...]
    fixed: tuple[Patrol, ...] = ()
    previous: frozenset[Patrol] = frozenset()
    # required[h][w]: the minimum patrols of hotspot h in week w (see `required_minimums`).
    required: Mapping[int, tuple[int, ...]] = field(default_factory=dict)

    @property
    def weeks(self) -> int:
        """Number of (possibly partial) 7-night blocks."""
        return math.ceil(len(self.nights) / WEEK)

    def squad(self, squad_id: int) -> SquadSpec:
        """A squad by id."""
        return self._squads[squad_id]

    def hotspot(self, hotspot_id: int) -> HotspotSpec:
        """A hotspot by id."""
        return self._hotspots[hotspot_id]

    @cached_property
    def _squads(self) -> dict[int, SquadSpec]:
        return {s.id: s for s in self.squads}

    @cached_property
    def _hotspots(self) -> dict[int, HotspotSpec]:
        return {h.id: h for h in self.hotspots}

    def week_nights(self, week: int) -> range:
        """Night indices of one week."""
        return range(week * WEEK, min((week + 1) * WEEK, len(self.nights)))

    def available(self, squad_id: int, night: int) -> bool:
        """Whether the squad may patrol that night at all (availability and capacity > 0)."""
        squad = self.squad(squad_id)
        return (
            squad.capacity > 0 and night not in squad.unavailable and not (night == 0 and squad.busy_before)
        )

    def rotation_squads(self) -> list[int]:
        """The squads fairness compares: eligible somewhere, with capacity, available some night."""
        eligible = {q for h in self.hotspots for q in (*h.side_a, *h.side_b)}
        return sorted(
            q
            for q in eligible
            if self.squad(q).capacity > 0 and any(self.available(q, n.index) for n in self.nights)
        )

    def coverage_value(self, hotspot_id: int, k: int) -> int:
        """The value of the k-th (1-based) patrol of a hotspot within one week."""
        return round(100 * self.hotspot(hotspot_id).weight * DECAY ** (k - 1))

    def preference(self, squad_id: int, night: int) -> int:
        """W_PREF × the squad's preference for that night's weekday."""
        return W_PREF * int(self.squad(squad_id).preferences.get(self.nights[night].day.weekday(), 0))

    def candidates(self, hotspot: HotspotSpec, night: int) -> list[tuple[int, int]]:
        """The (side a, side b) squad pairs that could take this hotspot on this night."""
        side_a = [q for q in hotspot.side_a if self.available(q, night)]
        side_b = [q for q in hotspot.side_b if self.available(q, night)]
        return [(a, b) for a in side_a for b in side_b]


# ------------------------------------------------------------------------------------ minimums


@dataclass(frozen=True)
class Shortage:
    """Why a weekly minimum cannot be met: one side has no available squad on enough nights."""

    hotspot: int
    week: int
    side: str  # district code
    squads: tuple[int, ...]
    nights: tuple[int, ...]
    needed: int
    possible: int


def required_minimums(
    nights: Sequence[Night], squads: Sequence[SquadSpec], hotspots: Sequence[HotspotSpec]
) -> tuple[dict[int, tuple[int, ...]], list[Shortage], list[str]]:
    """The weekly minimum of each hotspot "where capacity allows", and what makes it impossible.

    A minimum that availability alone makes impossible (on too few nights of the week does one side
    have any available squad) is a `Shortage`: the caller answers 422 naming the squads and nights.
    Where only capacity is short — the side's squads together have fewer free nights in the week than
    the minimums of the hotspots they share — the lowest-weight hotspots' minimums are lowered (with
    a warning) until the sum fits: that is "where capacity allows".
    """
    problem = Problem(tuple(nights), tuple(squads), tuple(hotspots))
    required: dict[int, list[int]] = {}
    shortages: list[Shortage] = []
    warnings: list[str] = []
    for h in hotspots:
        required[h.id] = []
        for w in range(problem.weeks):
            week = problem.week_nights(w)
            both = [
                n
                for n in week
                if any(problem.available(q, n) for q in h.side_a)
                and any(problem.available(q, n) for q in h.side_b)
            ]
            if len(both) < h.min_per_week:
                for side, ids in ((h.pair[0], h.side_a), (h.pair[1], h.side_b)):
                    open_nights = [n for n in week if any(problem.available(q, n) for q in ids)]
                    if len(open_nights) < h.min_per_week:
                        blocked = tuple(n for n in week if n not in open_nights)
                        shortages.append(
                            Shortage(h.id, w, side, tuple(ids), blocked, h.min_per_week, len(open_nights))
                        )
                        break
                else:
                    shortages.append(
                        Shortage(h.id, w, h.pair[0], (*h.side_a, *h.side_b), tuple(week), h.min_per_week, 0)
                    )
            required[h.id].append(min(h.min_per_week, len(both)))
    # Capacity: per week and per squad pool (one side of hotspots), free nights vs. the minimums.
    for w in range(problem.weeks):
        week = problem.week_nights(w)
        pools: dict[tuple[int, ...], list[HotspotSpec]] = defaultdict(list)
        for h in hotspots:
            pools[tuple(sorted(h.side_a))].append(h)
            pools[tuple(sorted(h.side_b))].append(h)
        for pool, members in pools.items():
            free = sum(
                min(
                    problem.squad(q).capacity,
                    MAX_BACK_TO_BACK_FREE,
                    sum(problem.available(q, n) for n in week),
                )
                for q in pool
            )
            for h in sorted(members, key=lambda h: (h.weight, -h.id)):
                total = sum(required[m.id][w] for m in members)
                if total <= free:
                    break
                cut = min(required[h.id][w], total - free)
                if cut > 0:
                    required[h.id][w] -= cut
                    warnings.append(
                        f"第{w + 1}周 {h.name}：最低巡查次数降为 {required[h.id][w]}（对侧中队夜班容量不足）"
                    )
    return {h: tuple(v) for h, v in required.items()}, shortages, warnings


# ------------------------------------------------------------------------------------ checking


def violations(problem: Problem, patrols: Iterable[Patrol]) -> list[Violation]:
    """Every hard rule the roster breaks (empty = a valid roster)."""
    patrols = sorted(patrols)
    found: list[Violation] = []
    hotspots = {h.id: h for h in problem.hotspots}
    by_squad_night: Counter[tuple[int, int]] = Counter()
    by_hotspot_night: Counter[tuple[int, int]] = Counter()
    for p in patrols:
        h = hotspots.get(p.hotspot)
        if h is None or not 0 <= p.night < len(problem.nights):
            found.append(Violation("eligibility", "未知的热点或夜晚", p.squads, (p.night,), (p.hotspot,)))
            continue
        if p.squad_a not in h.side_a or p.squad_b not in h.side_b:
            found.append(
                Violation("eligibility", f"{h.name}：中队不属于该交界两侧", p.squads, (p.night,), (h.id,))
            )
        for q in p.squads:
            squad = problem.squad(q) if q in problem._squads else None
            if squad is not None and not problem.available(q, p.night):
                found.append(
                    Violation("availability", f"{squad.name} 当晚不可排班", (q,), (p.night,), (h.id,))
                )
            by_squad_night[(q, p.night)] += 1
        by_hotspot_night[(p.hotspot, p.night)] += 1
    for (q, n), count in sorted(by_squad_night.items()):
        if count > 1:
            found.append(Violation("one_per_night", "同一中队同一晚只能参加一次巡查", (q,), (n,)))
        if (q, n + 1) in by_squad_night:
            found.append(Violation("back_to_back", "同一中队不能连续两晚巡查", (q,), (n, n + 1)))
    for (h_id, n), count in sorted(by_hotspot_night.items()):
        if count > 1:
            found.append(Violation("one_per_night", "同一热点同一晚只安排一次巡查", (), (n,), (h_id,)))
    for squad in problem.squads:
        for w in range(problem.weeks):
            nights = [n for n in problem.week_nights(w) if (squad.id, n) in by_squad_night]
            if len(nights) > squad.capacity:
                found.append(
                    Violation(
                        "capacity",
                        f"{squad.name} 第{w + 1}周 {len(nights)} 晚，超过每周上限 {squad.capacity} 晚",
                        (squad.id,),
                        tuple(nights),
                    )
                )
    for h in problem.hotspots:
        for w, need in enumerate(problem.required.get(h.id, ())):
            got = sum(1 for n in problem.week_nights(w) if (h.id, n) in by_hotspot_night)
            if got < need:
                found.append(
                    Violation(
                        "minimum",
                        f"{h.name} 第{w + 1}周只有 {got} 次巡查，至少需要 {need} 次",
                        (*h.side_a, *h.side_b),
                        tuple(problem.week_nights(w)),
                        (h.id,),
                    )
                )
    kept = set(patrols)
    for p in problem.fixed:
        if p not in kept:
            found.append(
                Violation("fixed", "已发布的班次不能被排班器改动", p.squads, (p.night,), (p.hotspot,))
            )
    return found


# ------------------------------------------------------------------------------------ scoring


@dataclass(frozen=True)
class Breakdown:
    """The objective and its terms (each already multiplied by its weight)."""

    coverage: int
    fairness_squads: int
    fairness_districts: int
    preferences: int
    rotation: int
    stability: int

    @property
    def objective(self) -> int:
        """The weighted sum the solvers maximise."""
        return (
            self.coverage
            + self.fairness_squads
            + self.fairness_districts
            + self.preferences
            + self.rotation
            + self.stability
        )

    def as_dict(self) -> dict[str, int]:
        """Terms and objective."""
        return {
            "coverage": self.coverage,
            "fairness_squads": self.fairness_squads,
            "fairness_districts": self.fairness_districts,
            "preferences": self.preferences,
            "rotation": self.rotation,
            "stability": self.stability,
            "objective": self.objective,
        }


def squad_loads(problem: Problem, patrols: Iterable[Patrol]) -> dict[int, int]:
    """Burden-weighted nights per squad (every squad of the problem, 0 if it does not patrol)."""
    loads = {s.id: 0 for s in problem.squads}
    for p in patrols:
        for q in p.squads:
            loads[q] += problem.nights[p.night].burden
    return loads


def district_members(problem: Problem, rotation: Sequence[int]) -> dict[str, list[int]]:
    """The rotation squads of each district."""
    members: dict[str, list[int]] = defaultdict(list)
    for q in rotation:
        members[problem.squad(q).district].append(q)
    return dict(members)


def evaluate(problem: Problem, patrols: Iterable[Patrol]) -> Breakdown:
    """Score a roster with the solvers' coefficients."""
    patrols = list(patrols)
    per_week: Counter[tuple[int, int]] = Counter((p.hotspot, problem.nights[p.night].week) for p in patrols)
    coverage = sum(
        problem.coverage_value(h, k) for (h, _w), count in per_week.items() for k in range(1, count + 1)
    )
    loads = squad_loads(problem, patrols)
    rotation = problem.rotation_squads()
    heaviest = max((loads[q] for q in rotation), default=0)
    averages = [sum(loads[q] for q in qs) // len(qs) for qs in district_members(problem, rotation).values()]
    heaviest_district = max(averages, default=0)
    preferences = sum(problem.preference(q, p.night) for p in patrols for q in p.squads)
    pairs = Counter((p.squad_a, p.squad_b) for p in patrols)
    repeats = sum(c - 1 for c in pairs.values() if c > 1)
    kept = sum(1 for p in patrols if p in problem.previous)
    return Breakdown(
        coverage=coverage,
        fairness_squads=-W_SQUAD * heaviest,
        fairness_districts=-W_DISTRICT * heaviest_district,
        preferences=preferences,
        rotation=-W_ROTATION * repeats,
        stability=W_STABILITY * kept,
    )
