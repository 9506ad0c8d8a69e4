"""How the packages may depend on each other: the rules a reviewer would otherwise check by eye."""

from __future__ import annotations

import ast
from pathlib import Path

from config import PROJECT_ROOT

# The web edge: Flask apps, blueprints, request hooks, CLI commands and the route declarations.
EDGE_MODULES = {"__init__.py", "api.py", "openapi.py", "extensions.py", "policy.py", "errors.py", "health.py"}
EDGE_MODULES |= {"settings.py", "jsonutil.py", "cli.py", "views.py", "schemas.py", "httpcache.py"}
EDGE_MODULES |= {
    "ratelimit.py",
    "security.py",
}  # counts per request (views call it), next to the request's transaction
EDGE_MODULES |= {"i18n.py"}  # coordinator/web: the pages' locale, from the request (Flask-Babel)
# coordinator/ops: the request hooks (request ids, request metrics) sit at the web edge too.
EDGE_MODULES |= {"requestid.py", "metrics.py"}
# coordinator/field: the device routes and the alert review are views on the field blueprint.
EDGE_MODULES |= {"device_views.py", "alert_review_views.py"}
# coordinator/community: the compounds, filings and inspections are views on the community blueprint.
EDGE_MODULES |= {"filing_views.py"}
# Page modules on the `web` blueprint, named by path: field/alerts.py is a service of the same file name.
EDGE_PATHS = {
    "coordinator/web/alerts.py",
    "coordinator/web/compounds.py",
    "coordinator/web/filings.py",
    "coordinator/web/liaison.py",
    "coordinator/web/rewards.py",
}
WEB_EDGE = ("flask", "coordinator.api", "coordinator.extensions", "coordinator.policy")


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at any level."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_domain_modules_do_not_import_the_web_edge() -> None:
    """Services, permissions, validation and the database layer run in requests, CLI commands and the
    scheduler alike; geo/ is plain geometry."""
    domain = [
        p
        for p in (PROJECT_ROOT / "coordinator").rglob("*.py")
        if p.name not in EDGE_MODULES and str(p.relative_to(PROJECT_ROOT)) not in EDGE_PATHS
    ]
    domain += list((PROJECT_ROOT / "geo").rglob("*.py"))
    assert any(p.name == "permissions.py" for p in domain) and any(p.name == "intake.py" for p in domain)
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in WEB_EDGE or name in WEB_EDGE
        )
        for path in domain
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_dialects_module_tells_the_databases_apart() -> None:
    """Where PostgreSQL and SQLite differ, the difference is one function in coordinator/dialects.py."""
    readers = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "coordinator").rglob("*.py")
        if "dialect.name" in path.read_text(encoding="utf-8")
    ]
    assert readers == ["coordinator/dialects.py"]
