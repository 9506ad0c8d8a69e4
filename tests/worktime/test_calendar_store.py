"""Calendar overrides and confirmed years: the CLI, and that deadlines use them."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from coordinator.cases.views import current_calendar
from coordinator.worktime import SHANGHAI
from coordinator.worktime.services import load_calendar


def test_override_cli_changes_the_calendar_deadlines_use(
    app: Flask, cli: FlaskCliRunner, session: Session
) -> None:
    saturday = date(2027, 2, 20)
    assert not load_calendar(session).is_working_day(saturday)
    result = cli.invoke(args=["calendar", "override", "2027-02-20", "--work", "--note", "春节调休上班"])
    assert result.exit_code == 0, result.output
    calendar = load_calendar(session)
    assert calendar.is_working_day(saturday)
    # a Friday-evening case: the next working hours are on the override Saturday, not on Monday
    friday_evening = datetime(2027, 2, 19, 18, 0, tzinfo=SHANGHAI)
    assert calendar.add(friday_evening, 2, "work_hours") == datetime(2027, 2, 20, 11, 0, tzinfo=SHANGHAI)
    with app.test_request_context("/api/v1/reports", method="POST"):
        assert current_calendar().is_working_day(saturday)
    off = cli.invoke(args=["calendar", "override", "2027-02-22", "--off", "--note", "补休"])
    assert off.exit_code == 0
    assert not load_calendar(session).is_working_day(date(2027, 2, 22))


def test_show_and_confirm_year(cli: FlaskCliRunner, session: Session) -> None:
    before = cli.invoke(args=["calendar", "show", "2027"])
    assert "NOT published" in before.output
    cli.invoke(args=["calendar", "override", "2027-02-20", "--work", "--note", "调休"])
    confirmed = cli.invoke(args=["calendar", "confirm", "2027", "--by", "ops", "--note", "国办发明电"])
    assert confirmed.exit_code == 0
    shown = cli.invoke(args=["calendar", "show", "2027"]).output
    assert "confirmed by an operator" in shown
    assert "2027-02-20  Sat  work  override: 调休" in shown
    assert 2027 in load_calendar(session).confirmed_years
    known = cli.invoke(args=["calendar", "show", "2026"]).output
    assert "2026: schedule known" in known
    assert "调休上班" in known
