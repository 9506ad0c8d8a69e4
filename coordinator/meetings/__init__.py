"""Liaison meetings (联席会议): series with rotating hosts, agendas built from the caseload, minutes,
decisions, action items followed up on cases and later agendas, attendance, and the calendar feed."""
