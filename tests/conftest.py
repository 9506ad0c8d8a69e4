"""Test fixtures: a real database (SpatiaLite by default, PostGIS with TEST_DATABASE_URL), migrated once
per run with the shipped boundaries loaded; every test runs inside a transaction that is rolled back.

Every test client of every app checks each answer against its documented response (tests/contracts.py),
and a run of the whole suite fails if some route's documented success answer was never checked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from coordinator import CoordinatorFlask, create_app, migrate, ratelimit
from coordinator.db import make_engine, session_scope
from coordinator.demo import seed_reference
from coordinator.extensions import SESSIONMAKER_KEY
from coordinator.geolocation.services import LocatorCache
from coordinator.refcache import INFO_KEY, ReferenceCache
from coordinator.squads.services import seed_demo_territory
from geo.boundaries import parse_features, read_boundary_file, shipped_districts_path
from geo.locator import AreaInfo, Locator, input_from_districts
from tests import contracts

TESTS_DIR = Path(__file__).parent
POSTGIS_ONLY_DIR = TESTS_DIR / "postgis"


def on_postgresql() -> bool:
    """Whether this run's database is PostgreSQL (TEST_DATABASE_URL=postgresql…)."""
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(scope="session", autouse=True)
def contract_checked_clients() -> Iterator[None]:
    """Every app the tests build (the `app` fixture, live apps of concurrency tests) hands out test
    clients that check each answer against the OpenAPI document and its models."""
    previous = CoordinatorFlask.test_client_class
    CoordinatorFlask.test_client_class = contracts.ContractClient
    yield
    CoordinatorFlask.test_client_class = previous


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Remember that tests were left out (-k, -m, --lf, --deselect): the run is not the whole suite."""
    if items:
        contracts.tally.partial_run = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a passing run of the whole suite if some route's documented success answer went unchecked."""
    test_files = {p.resolve() for p in TESTS_DIR.rglob("test_*.py")}
    if not on_postgresql():  # tests/postgis/ is collected on PostgreSQL only (see its conftest)
        test_files = {p for p in test_files if POSTGIS_ONLY_DIR not in p.parents}
    ran_files = {Path(item.path).resolve() for item in session.items}
    if ran_files != test_files:
        contracts.tally.partial_run = True
    if exitstatus != pytest.ExitCode.OK or contracts.tally.partial_run:
        return
    app = create_app({"database_url": "sqlite://", "testing": True, "secret_key": "contracts"})
    missing = contracts.documented_success_answers(app) - contracts.checked
    app.extensions["coordinator.engine"].dispose()
    app.extensions["coordinator.counter_engine"].dispose()
    contracts.tally.unchecked = sorted(f"{endpoint} ({media or 'no body'})" for endpoint, media in missing)
    if missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many answers were checked, and the routes whose success answer no test checked."""
    tally = contracts.tally
    line = (
        f"response contracts: {tally.answers} answers checked in {tally.seconds:.1f} s "
        f"({tally.rings} GeoJSON polygon rings wound as RFC 7946 says)"
    )
    if tally.unchecked is None:
        terminalreporter.write_line(line + " (route coverage is asserted when the whole suite passes)")
    elif not tally.unchecked:
        terminalreporter.write_line(line + "; every route's documented success answer among them")
    else:
        terminalreporter.section("response contracts", sep="=", red=True)
        terminalreporter.write_line(line, red=True)
        terminalreporter.write_line("no test got (and checked) the documented success answer of:", red=True)
        for name in tally.unchecked:
            terminalreporter.write_line(f"  {name}", red=True)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL, or a fresh SpatiaLite file for this run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The engine of the test database, migrated to head with the shipped boundaries committed."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    with session_scope(sessionmaker(engine)) as session:
        seed_reference(session, snap_m=20.0)
        # The demo territory (approximate town jurisdictions, one squad each) is what routing needs.
        seed_demo_territory(session)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions bound to the test's connection; their commits become savepoints."""
    # With the app's reference cache, so every API test also exercises its invalidation.
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={INFO_KEY: ReferenceCache()},
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service-level tests."""
    with session_factory() as s:
        yield s


@pytest.fixture(scope="session")
def locator_cache() -> LocatorCache:
    """One locator cache for the run (building a locator takes ~1 s). It checks the boundary version
    on every request (refresh_s=0), so a test that changes boundaries gets a rebuilt locator."""
    return LocatorCache(refresh_s=0)


@pytest.fixture(scope="session")
def shipped_locator() -> Locator:
    """A locator built straight from the shipped district file (no database)."""
    features = parse_features(read_boundary_file(shipped_districts_path()))
    districts = [(AreaInfo(f.code, f.name_zh, f.name_en, bool(f.member)), f.geometry) for f in features]
    return Locator(input_from_districts(districts))


@pytest.fixture
def app(
    database_url: str, session_factory: sessionmaker[Session], locator_cache: LocatorCache, tmp_path: Path
) -> Iterator[Flask]:
    """The app, with every request and CLI command using the test's rolled-back transaction (and
    evidence files in the test's own directory)."""
    app = create_app(
        {
            "database_url": database_url,
            "testing": True,
            "secret_key": "test",
            "evidence_dir": str(tmp_path / "evidence"),
        }
    )
    app.extensions[SESSIONMAKER_KEY] = session_factory
    # Rate-limit hits are counted in the test's transaction too (and rolled back with it).
    app.extensions[ratelimit.STORE_KEY] = ratelimit.CounterStore(
        session_factory, shares_request_connection=True
    )
    app.extensions["coordinator.locator_cache"] = locator_cache
    yield app
    app.extensions["coordinator.engine"].dispose()
    app.extensions["coordinator.counter_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client for the app."""
    return app.test_client()


@pytest.fixture
def cli(app: Flask) -> FlaskCliRunner:
    """A runner for `flask …` commands."""
    return app.test_cli_runner()


@pytest.fixture
def write_geojson(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write text to a file in the test's tmp dir and return its path."""

    def _write(content: str, name: str = "areas.geojson") -> Path:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return path

    return _write
