"""Intake capacity: `POST /api/v1/reports` under gunicorn against a baseline app, and (with --before) the
same for another version of the service, side by side in one run on one PostgreSQL server.

    .venv/bin/python bench/intake.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        [--before REF] [--seconds 5] [--rounds 7] [--connections 4,16] [--workers 2] [--quick]

Sides. "after" is the working tree this file lives in (uncommitted changes included). With --before REF,
"before" is REF checked out into a temporary `git worktree` (removed afterwards) and run with the same
virtualenv, with that tree first on the import path (checked before anything runs). Each side gets its
own fresh database on the server of --pg-url (`bench_intake_<pid>_<side>`; --pg-url is only used to
create and drop them, so any database there whose user may create databases will do), set up through
the service's own command line in that side's tree — `flask --app wsgi db upgrade`, `seed demo
--reports 0`, `users create --role reporter` (its token is the last line it prints) — and two servers
on free 127.0.0.1 ports: the service (`gunicorn wsgi:app` with that tree's gunicorn.conf.py) and the
baseline (bench/baseline_app.py: a bearer-token check the way the service does it plus one inserted
row, one committed transaction; bench/baseline_gunicorn.conf.py gives it the same gunicorn settings).
The service is only driven over HTTP and its CLI, so this runs against any version of it.

Load. wrk (`--threads` threads, each connection count in turn) posts reports with random points inside
the member districts, random categories and a distinct Idempotency-Key per request; the baseline gets the
very same requests, so the client does the same work for both. Each round runs, per connection count,
baseline and intake of one side, then intake and baseline of the other (see `schedule`); the sides swap
every round. Printed per side, endpoint and connection count: medians over rounds of req/s, p50 and
p99, CPU per request of the gunicorn processes and of the PostgreSQL backends of that side's database;
the ratio intake/baseline and, with --before, after/before (medians of the per-round ratios, with each
round's value). The target of issue 13: after/before >= 0.85 (the simplification costs at most 15 % of
intake throughput). On a busy shared machine req/s swing with the other load; CPU per report, printed
as a cross-check, swings far less. Exit status 0 whether or not the target is met (this is a
measurement); 1 if the measurement itself failed.

Everything it creates — servers, the worktree, the databases, temporary files — is removed on exit,
Ctrl-C included. Needs `wrk` (`scripts/install-system-deps.sh --bench`) and, for --before, git.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.served import Gunicorn, NotServing, start  # noqa: E402
from bench.synthetic_cases import member_points  # noqa: E402

CATEGORIES = ("01-01", "01-10", "01-11", "01-51", "05-51", "05-52")
TARGET = 0.85  # issue 13: after/before intake throughput
KINDS = ("baseline", "intake")

LUA = """
local points = {%(points)s}
local cats = {%(cats)s}
local counter = 0
local nthreads = 0
setup = function(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
init = function(args)
  math.randomseed(%(seed)d + tid)
end
request = function()
  counter = counter + 1
  local p = points[math.random(#points)]
  local body = string.format(
    '{"category":"%%s","lon":%%.6f,"lat":%%.6f,"source":"citizen","description":"bench"}',
    cats[math.random(#cats)], p[1], p[2])
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s",
    ["Idempotency-Key"] = "%(nonce)s-" .. tid .. "-" .. counter,
  }
  return wrk.format("POST", "/api/v1/reports", headers, body)
end
"""

# What a side's tree must provide, checked in the environment its processes run with.
IMPORT_CHECK = """
import json, config, coordinator, coordinator.cases, geo, wsgi
print(json.dumps({m.__name__: list(getattr(m, "__path__", [])) or [m.__file__]
                  for m in (config, coordinator, coordinator.cases, geo, wsgi)}))
"""


class MeasurementError(RuntimeError):
    """The run could not measure (a server did not start, requests failed, a command failed)."""


def _stat_cpu(stat: Path) -> tuple[str, float]:
    """(command name, user + system CPU seconds) of one /proc/<pid>/stat."""
    head, rest = stat.read_text().rsplit(")", 1)
    parts = rest.split()
    return head.split("(", 1)[1], (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (Linux /proc; 0 elsewhere)."""
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return 0.0
    total = 0.0
    for each in pids:
        try:
            total += _stat_cpu(Path(f"/proc/{each}/stat"))[1]
        except (OSError, IndexError, ValueError):
            continue
    return total


def postgres_cpu_seconds() -> float:
    """User + system CPU of every local `postgres` process so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, cpu = _stat_cpu(stat)
        except (OSError, IndexError, ValueError):
            continue
        if name == "postgres":
            total += cpu
    return total


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each local PostgreSQL backend connected to `database`, by pid.

    Backends show `postgres: [<cluster name>:] <user> <database> <host(port)> <activity>` as their
    command line (Debian sets the cluster name, e.g. `15/main`).
    """
    out: dict[int, float] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if not title or title[0] != "postgres:" or database not in title[2:4]:
                continue
            out[int(proc.name)] = _stat_cpu(proc / "stat")[1]
        except (OSError, IndexError, ValueError):
            continue
    return out


@dataclass
class Side:
    """One version of the service under test, its database, token and servers."""

    name: str
    tree: Path
    label: str
    database: str
    url: str
    token: str = ""
    revision: str = ""
    servers: dict[str, Gunicorn] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The environment of this side's service processes: its tree first on the import path."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FLASK_APP")}
        return {
            **env,
            "PYTHONPATH": str(self.tree),
            "DATABASE_URL": self.url,
            "SECRET_KEY": "bench-intake-not-secret",  # else each process would draw its own
            "LOG_LEVEL": "WARNING",
            "RATE_LIMITS_ENABLED": "0",  # capacity is measured, not the per-token limit
        }

    @property
    def gunicorn_conf(self) -> Path:
        """The service's gunicorn settings in this side's tree."""
        return self.tree / "gunicorn.conf.py"


@dataclass
class Run:
    """One wrk run."""

    rps: float
    p50: float
    p99: float
    timeouts: int
    server_ms: float  # gunicorn CPU per request (master + workers)
    backend_ms: float | None  # CPU per request of the PostgreSQL backends of the side's database

    @property
    def cpu_ms(self) -> float | None:
        """CPU per request of gunicorn and the backends together (None if the backends are not visible)."""
        return None if self.backend_ms is None else self.server_ms + self.backend_ms


def command(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command; its stdout, or MeasurementError with its output."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise MeasurementError(f"{' '.join(cmd)} failed ({done.returncode}); the end of its output:\n{tail}")
    return done.stdout


def flask_cli(side: Side, *args: str) -> str:
    """`flask --app wsgi ARGS` in the side's tree, on its database."""
    return command([str(BIN / "flask"), "--app", "wsgi", *args], cwd=side.tree, env=side.env)


def check_imports(side: Side) -> None:
    """The side's processes import the service from the side's tree, not from the venv's install."""
    out = command([str(BIN / "python"), "-c", IMPORT_CHECK], cwd=side.tree, env=side.env)
    found = json.loads(out.strip().splitlines()[-1])
    tree = side.tree.resolve()
    wrong = {m: p for m, p in found.items() if not all(Path(x).resolve().is_relative_to(tree) for x in p)}
    if wrong:
        raise MeasurementError(f"{side.name}: modules not imported from its tree {tree}: {wrong}")


def prepare(side: Side, stack: ExitStack, admin: Any) -> None:
    """Create the side's database, migrate and seed it through the CLI, get a reporter's token."""
    from sqlalchemy import create_engine, text

    stack.callback(guarded, f"drop database {side.database}", drop_database, admin, side.database)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{side.database}"'))
    check_imports(side)
    flask_cli(side, "db", "upgrade")
    flask_cli(side, "seed", "demo", "--reports", "0")
    out = flask_cli(
        side, "users", "create", "--username", "bench_intake", "--role", "reporter", "--no-password"
    )
    side.token = out.strip().splitlines()[-1].strip()
    if not side.token.startswith("jj_"):
        raise MeasurementError(f"{side.name}: `users create` did not end with a token:\n{out}")
    import baseline_app  # bench/ is on sys.path (see main)

    baseline_app.create_table(side.url)
    engine = create_engine(side.url)
    with engine.connect() as conn:
        side.revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()


def drop_database(admin: Any, name: str) -> None:
    """Drop a database of the bench, disconnecting whatever is still connected."""
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def start_server(side: Side, kind: str, workers: int, tmp: Path, stack: ExitStack) -> Gunicorn:
    """Start the side's service or baseline under gunicorn on a free port (same flags for both)."""
    if kind == "intake":
        app, cwd, env = "wsgi:app", side.tree, side.env
        conf = side.gunicorn_conf if side.gunicorn_conf.exists() else None
    else:
        app, cwd, conf = "baseline_app:app", BENCH, BENCH / "baseline_gunicorn.conf.py"
        env = {**os.environ, "DATABASE_URL": side.url, "BENCH_SERVICE_GUNICORN_CONF": str(side.gunicorn_conf)}
        env.pop("PYTHONPATH", None)
    server = start(
        app,
        env=env,
        cwd=cwd,
        config=conf,
        workers=workers,
        flags=["--log-level", "warning"],
        log=tmp / f"{side.name}-{kind}.log",
        name=f"{side.name} {kind}",
    )
    stack.callback(guarded, f"stop {server.name}", server.stop)
    return server


def lua_script(tmp: Path, points: list[tuple[float, float]], token: str) -> Path:
    """A wrk script with a new nonce: its Idempotency-Keys were never sent before."""
    nonce = secrets.token_hex(6)
    path = tmp / f"post-{nonce}.lua"
    path.write_text(
        LUA
        % {
            "points": ",".join(f"{{{x:.6f},{y:.6f}}}" for x, y in points),
            "cats": ",".join(f'"{c}"' for c in CATEGORIES),
            "seed": random.randrange(1 << 30),
            "token": token,
            "nonce": nonce,
        }
    )
    return path


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(server: Gunicorn, script: Path, seconds: int, connections: int, threads: int) -> tuple[Run, int]:
    """One wrk run against the server; (the run without CPU figures, requests completed)."""
    cmd = ["wrk", "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{seconds}s",
           "--latency", "-s", str(script), server.base + "/api/v1/reports"]  # fmt: skip
    out = command(cmd, cwd=BENCH, timeout=seconds + 60)
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed:
        raise MeasurementError(
            f"{server.name}: {failed.group(1)} failed requests\n{out}{sample(server, script)}"
        )
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {p: re.search(rf"\n\s+{p}%\s+([\d.]+)(us|ms|s|m)\b", out) for p in ("50", "99")}
    timeouts = re.search(r"timeout (\d+)", out)
    return Run(
        rps=rps,
        p50=_ms(*pct["50"].groups()) if pct["50"] else float("nan"),
        p99=_ms(*pct["99"].groups()) if pct["99"] else float("nan"),
        timeouts=int(timeouts.group(1)) if timeouts else 0,
        server_ms=0.0,
        backend_ms=None,
    ), requests


def sample(server: Gunicorn, script: Path) -> str:
    """What one request like the script's gets back (for the error message of a failed run)."""
    token = re.search(r"Bearer (\S+)\"", script.read_text())
    body = json.dumps({"category": CATEGORIES[0], "lon": 121.25, "lat": 30.9, "source": "citizen"})
    req = urllib.request.Request(
        server.base + "/api/v1/reports",
        data=body.encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token.group(1) if token else ''}",
            "Idempotency-Key": secrets.token_hex(8),
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return f"a sample request: {r.status} {r.read()[:500]!r}"
    except urllib.error.HTTPError as e:
        return f"a sample request: {e.code} {e.read()[:500]!r}"
    except OSError as e:
        return f"a sample request: {e}"


def measured(side: Side, server: Gunicorn, script: Path, seconds: int, connections: int, threads: int) -> Run:
    """A wrk run with the CPU per request of the server and of the side database's backends."""
    server_before, backends_before = process_cpu_seconds(server.process.pid), backend_cpu(side.database)
    run, requests = wrk(server, script, seconds, connections, threads)
    backends_after = backend_cpu(side.database)
    run.server_ms = (process_cpu_seconds(server.process.pid) - server_before) * 1000 / max(requests, 1)
    if backends_after:
        used = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends_after.items())
        run.backend_ms = used * 1000 / max(requests, 1)
    return run


def guarded(what: str, fn: Callable[..., Any], *args: Any) -> None:
    """Run a clean-up step; report, but survive, its failure (the other steps must still run)."""
    try:
        fn(*args)
    except Exception as error:
        print(f"clean-up: {what} failed: {error}", file=sys.stderr)


def add_worktree(ref: str, tmp: Path, stack: ExitStack) -> tuple[Path, str]:
    """Check REF out into a temporary detached worktree (removed on exit); (its path, its label)."""
    try:
        commit = command(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=ROOT).strip()
    except MeasurementError:
        raise MeasurementError(f"--before {ref}: not a commit of this repository") from None
    path = tmp / "before"
    stack.callback(guarded, "remove the worktree", remove_worktree, path)
    command(["git", "worktree", "add", "--detach", "--quiet", str(path), commit], cwd=ROOT, timeout=120)
    subject = command(["git", "log", "-1", "--format=%h %s", commit], cwd=ROOT).strip()
    subject = subject if len(subject) <= 72 else subject[:71] + "…"
    return path, subject if subject.startswith(ref) else f"{ref} = {subject}"


def remove_worktree(path: Path) -> None:
    """Remove the temporary worktree (files and registration)."""
    if path.exists():
        command(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, timeout=120)


@contextmanager
def signals_as_exit() -> Iterator[None]:
    """SIGTERM/SIGHUP end the run like Ctrl-C does (clean-up runs); nothing interrupts the clean-up."""

    def leave(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, leave)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)


def median(values: list[float]) -> float:
    """The median, NaN for no values."""
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    """Per-round values as `a, b, c` (3 decimals)."""
    return ", ".join(f"{v:.3f}" for v in values)


def describe_conditions(admin: Any, sides: list[Side], args: argparse.Namespace) -> None:
    """Machine, server, gunicorn settings and what each side is."""
    from sqlalchemy import create_engine, text

    engine = create_engine(sides[0].url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version()")).scalar_one().split(" on ")[0]
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
    engine.dispose()
    from importlib.metadata import version as package_version

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}; Python {platform.python_version()}; "
          f"{version}, PostGIS {postgis}; gunicorn {package_version('gunicorn')}")  # fmt: skip
    conf = runpy_conf()
    for side in sides:
        plain, hooks = conf(str(side.gunicorn_conf))
        settings = ", ".join(f"{k}={v!r}" for k, v in sorted(plain.items())) or "none"
        print(
            f"{side.name}: {side.label}; database {side.database} at migration {side.revision}\n"
            f"  both servers: gunicorn --workers {args.workers}; from the service's gunicorn.conf.py: "
            f"{settings}; its hooks ({', '.join(hooks) or 'none'}) run in the service only (the baseline's "
            "post_worker_init does gc.freeze())"
        )


def runpy_conf() -> Callable[[str], tuple[dict[str, Any], list[str]]]:
    """`service_settings` of bench/baseline_gunicorn.conf.py (a file gunicorn loads by path)."""
    import runpy

    found = runpy.run_path(str(BENCH / "baseline_gunicorn.conf.py"), run_name="bench_conf")
    return found["service_settings"]  # type: ignore[no-any-return]


def schedule(sides: list[Side], round_no: int) -> list[tuple[Side, str]]:
    """The runs of one round at one connection count, in order.

    One side: baseline, intake. Two sides: baseline, intake, intake, baseline — each intake run next to
    its own side's baseline run and next to the other side's intake run, so that both comparisons are
    between neighbours in time — with the sides swapped every other round.
    """
    first, *rest = sides if round_no % 2 == 0 else sides[::-1]
    return [(first, "baseline"), (first, "intake"), *((side, "intake") for side in rest),
            *((side, "baseline") for side in rest)]  # fmt: skip


def report(sides: list[Side], runs: dict[tuple[str, str, int], list[Run]], args: argparse.Namespace) -> None:
    """Print medians per side/endpoint/connections, the ratios and, with two sides, the verdict."""
    print(
        f"\nwrk {args.threads} threads; {args.rounds} round(s) of {args.seconds} s per side, endpoint and "
        "connection count; medians over rounds:"
    )
    print(f"  {'side':<9}{'endpoint':<10}{'conns':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'gunicorn CPU':>14}{'PG CPU':>9}  req/s per round")  # fmt: skip
    for c in args.connections:
        for side in sides:
            for kind in KINDS:
                rs = runs[(side.name, kind, c)]
                backend = [r.backend_ms for r in rs if r.backend_ms is not None]
                pg = f"{median(backend):.2f} ms" if backend else "n/a"
                timeouts = sum(r.timeouts for r in rs)
                print(
                    f"  {side.name:<9}{kind:<10}{c:>5}{median([r.rps for r in rs]):>9,.0f}"
                    f"{median([r.p50 for r in rs]):>9.2f}{median([r.p99 for r in rs]):>9.2f}"
                    f"{median([r.server_ms for r in rs]):>11.2f} ms{pg:>9}  "
                    + ", ".join(f"{r.rps:,.0f}" for r in rs)
                    + (f"  ({timeouts} wrk timeouts)" if timeouts else "")
                )
    print("  CPU per request: gunicorn master + workers; PG: the backends connected to the side's database")

    def per_round(side: Side, c: int) -> list[float]:
        pairs = zip(runs[(side.name, "baseline", c)], runs[(side.name, "intake", c)], strict=True)
        return [i.rps / b.rps for b, i in pairs]

    print("\nintake / baseline req/s (median of the per-round ratios; per round):")
    for c in args.connections:
        for side in sides:
            ratios = per_round(side, c)
            print(f"  {side.name:<9}{c:>3} connections: {median(ratios):.3f}   ({spread(ratios)})")
    if len(sides) < 2:
        return
    before, after = sides
    print("\nbefore/after, intake (medians over rounds; ratios: median of the per-round ratios):")
    header = ("conns", "before req/s", "after req/s", "after/before", "before/baseline", "after/baseline",
              "before p99", "after p99", "CPU/report before → after")  # fmt: skip
    print("  | " + " | ".join(header) + " |")
    print("  |" + "|".join("---" for _ in header) + "|")
    verdicts = []
    for c in args.connections:
        b, a = runs[(before.name, "intake", c)], runs[(after.name, "intake", c)]
        rounds = [x.rps / y.rps for x, y in zip(a, b, strict=True)]
        ratio = median(rounds)
        # CPU per report (gunicorn + backends): capacity when the machine is the limit; far less
        # sensitive than req/s to what else the shared machine runs at the moment.
        cpu = [(y.cpu_ms / x.cpu_ms) for x, y in zip(a, b, strict=True) if x.cpu_ms and y.cpu_ms]
        verdicts.append((c, ratio, rounds, cpu))
        print(
            f"  | {c} | {median([r.rps for r in b]):,.0f} | {median([r.rps for r in a]):,.0f} | "
            f"{ratio:.3f} | {median(per_round(before, c)):.3f} | {median(per_round(after, c)):.3f} | "
            f"{median([r.p99 for r in b]):.1f} ms | {median([r.p99 for r in a]):.1f} ms | "
            f"{median([r.cpu_ms or 0 for r in b]):.2f} → {median([r.cpu_ms or 0 for r in a]):.2f} ms |"
        )
    for c, ratio, rounds, cpu in verdicts:
        met = ratio >= TARGET
        print(
            f"after/before intake req/s at {c} connections: {ratio:.3f} (per round {spread(rounds)}; "
            f"target >= {TARGET}): {'target met' if met else 'target NOT met'}"
        )
        if cpu:
            print(f"  cross-check, CPU per report before/after: {median(cpu):.3f} (per round {spread(cpu)})")
    overall = all(ratio >= TARGET for _, ratio, _, _ in verdicts)
    print("target met (at every connection count)" if overall else "target NOT met")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", required=True, help="a PostgreSQL URL whose user may create databases")
    parser.add_argument("--before", default=None, help="git ref of the version to compare with (optional)")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", default="4,16", help="comma-separated wrk connection counts")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (the machine has 2 cores)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of every server")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 2 s")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds = 2, 1
    try:
        args.connections = [int(c) for c in args.connections.split(",")]
    except ValueError:
        parser.error("--connections takes numbers separated by commas, e.g. 4,16")
    if shutil.which("wrk") is None:
        print("wrk is not installed: scripts/install-system-deps.sh --bench (Debian: apt-get install wrk)")
        return 2
    sys.path.insert(0, str(BENCH))  # baseline_app (create_table)

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    admin_url = make_url(args.pg_url)
    if admin_url.get_backend_name() != "postgresql":
        parser.error("--pg-url must be a PostgreSQL URL")
    admin_url = admin_url.set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    planned = args.rounds * len(args.connections) * (2 if args.before else 1) * len(KINDS) * args.seconds
    print(f"intake capacity: about {planned / 60:.1f} min of load after the set-up", flush=True)

    with ExitStack() as stack, signals_as_exit():
        try:
            tmp = Path(tempfile.mkdtemp(prefix="bench-intake-"))
            stack.callback(shutil.rmtree, tmp, True)
            stack.callback(admin.dispose)

            def side(name: str, tree: Path, label: str) -> Side:
                database = f"bench_intake_{os.getpid()}_{name}"
                url = admin_url.set(database=database).render_as_string(hide_password=False)
                return Side(name, tree, label, database, url)

            sides = []
            if args.before:
                tree, label = add_worktree(args.before, tmp, stack)
                sides.append(side("before", tree, label))
            dirty = command(["git", "describe", "--always", "--dirty"], cwd=ROOT).strip()
            sides.append(side("after" if args.before else "current", ROOT, f"the working tree ({dirty})"))
            for each in sides:
                prepare(each, stack, admin)
            describe_conditions(admin, sides, args)
            points = member_points(20_000, seed=random.randrange(1 << 30))
            for each in sides:
                for kind in KINDS:
                    each.servers[kind] = start_server(each, kind, args.workers, tmp, stack)
            for each in sides:
                for kind in KINDS:
                    server = each.servers[kind]
                    server.wait_up()
                    warm = min(3, args.seconds)  # every worker: connections, caches, the locator
                    wrk(
                        server, lua_script(tmp, points, each.token), warm, max(args.connections), args.threads
                    )
            print("servers up and warm; measuring", flush=True)
            runs: dict[tuple[str, str, int], list[Run]] = {}
            for round_no in range(args.rounds):
                for c in args.connections:
                    for each, kind in schedule(sides, round_no):
                        script = lua_script(tmp, points, each.token)
                        run = measured(each, each.servers[kind], script, args.seconds, c, args.threads)
                        runs.setdefault((each.name, kind, c), []).append(run)
                print(f"  round {round_no + 1}/{args.rounds} done", flush=True)
            report(sides, runs, args)
        except (MeasurementError, NotServing) as error:
            print(f"measurement failed: {error}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted; cleaning up", file=sys.stderr)
            return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
