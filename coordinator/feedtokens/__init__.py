"""Secret calendar-feed URL tokens: one design for every iCalendar feed (meetings, a squad's patrols)."""
