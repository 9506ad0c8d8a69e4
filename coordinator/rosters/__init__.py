"""Joint night rosters (联合夜间执法排班): the roster problem and its solvers, drafts, changes and publishing,
squads' nights, patrol logs and iCalendar feeds (docs/rosters.md)."""
