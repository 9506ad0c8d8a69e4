"""Alert intake under a burst: 10,000 signed alerts from 200 cameras in 60 s against gunicorn on
127.0.0.1, then the same batch re-sent; the baseline app (bench/baseline_app.py: a token check and one
inserted row per request) measured in the same run with the same client.

    .venv/bin/python bench/alerts.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \
        [--alerts 10000] [--devices 200] [--seconds 60] [--clients 16] [--workers 2]

Setup, through the service's own command line and API: a fresh database `bench_alerts_<pid>` on the
server of --pg-url (dropped on exit), `flask db upgrade`, `seed demo --reports 0`, a dispatcher
(`users create`), gunicorn with the repo's gunicorn.conf.py; then 200 cameras registered with
`POST /api/v1/devices` at random points of the member districts (each gets its own secret).

Phases (one client: `--clients` threads, keep-alive HTTP/1.1, one alert per request, each signed with its
device's secret — HMAC-SHA256 over method, path, timestamp, nonce, body hash):
1. baseline: 2,000 `POST /api/v1/reports` to the baseline app as fast as the client goes (its req/s is
   the yardstick: an authenticated request that writes one row).
2. burst: the alerts, each device sending its share spread over `--seconds` (detections 1–2 s apart, a
   third of them of a second class, confidence 0.55–0.99 so some wait for review, every 10th with a
   ~1 KB JPEG frame). Printed: alerts accepted per second (over the burst's wall time), p50 and p99 of
   the request latency, the answers by status, alerts stored after storm folding, cases opened, alerts
   waiting for review, real-time warnings queued.
3. re-send: the very same alerts again (new signatures and nonces, as a device retrying would send
   them), as fast as the client goes: every answer must be `duplicate`, and the counts of alerts,
   receipts, reports and cases must not move ("no alert lost or duplicated").

Printed last: accepted/s ÷ baseline req/s (the burst is paced, so this says how much of the yardstick
the offered load takes) and re-send alerts/s ÷ baseline req/s (unpaced). Exit status 0 when every alert
was accepted once and the re-send created nothing; 1 otherwise or if the measurement failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import io
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from intake import MeasurementError, command, drop_database, guarded  # noqa: E402
from synthetic_cases import member_points  # noqa: E402

from bench.served import NotServing, start  # noqa: E402

ALERTS_PATH = "/api/v1/alerts"


@dataclass
class Shot:
    """One request's outcome."""

    status: int
    seconds: float
    body: dict[str, Any] = field(default_factory=dict)


def tiny_jpeg() -> bytes:
    """A ~1 KB JPEG frame."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 110, 70)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def sign(code: str, secret: str, body: bytes) -> dict[str, str]:
    """The device headers of a signed POST /api/v1/alerts (what coordinator/field/devices.py checks)."""
    timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(12)
    canonical = "\n".join(["POST", ALERTS_PATH, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()
    mac = hmac.new(secret.encode(), canonical, hashlib.sha256).hexdigest()
    return {
        "X-Device-Id": code,
        "X-Device-Timestamp": timestamp,
        "X-Device-Nonce": nonce,
        "X-Device-Signature": f"sha256={mac}",
        "Content-Type": "application/json",
    }


class Client:
    """`threads` workers, each with one keep-alive connection, taking (due time, request) jobs in order."""

    def __init__(self, port: int, threads: int) -> None:
        self.port, self.threads = port, threads

    def run(self, jobs: list[tuple[float, str, Any]], make: Any) -> tuple[list[Shot], float]:
        """Send every job no earlier than its due time (seconds from start); the shots and the wall time."""
        lock, shots = threading.Lock(), []
        index = iter(range(len(jobs)))
        start = time.perf_counter()

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            while True:
                with lock:
                    i = next(index, None)
                if i is None:
                    break
                due, path, payload = jobs[i]
                wait = start + due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                body, headers = make(payload)
                t0 = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                    status, data = 0, b"{}"
                shot = Shot(status, time.perf_counter() - t0, json.loads(data or b"{}") if status else {})
                with lock:
                    shots.append(shot)
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(self.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return shots, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def counts(url: str) -> dict[str, int]:
    """Rows the alert intake writes."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        out = {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
            for table in ("alert", "alert_receipt", "report", "case_file", "realtime_warning")
        }
        out["pending_review"] = int(
            conn.execute(text("SELECT count(*) FROM alert WHERE status = 'pending_review'")).scalar_one()
        )
        out["folded_detections"] = int(
            conn.execute(text("SELECT coalesce(sum(count), 0) FROM alert")).scalar_one()
        )
    engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", required=True, help="a PostgreSQL server (to create the bench database)")
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-requests", type=int, default=2000)
    args = parser.parse_args()

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server_url = make_url(args.pg_url)
    database = f"bench_alerts_{os.getpid()}"
    url = server_url.set(database=database).render_as_string(hide_password=False)
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    rng = random.Random(20)
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-alerts-") as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FLASK_APP")}
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=url,
            SECRET_KEY="bench-alerts-not-secret",
            LOG_LEVEL="WARNING",
            EVIDENCE_DIR=str(tmp / "evidence"),
        )
        stack.callback(guarded, f"drop database {database}", drop_database, admin, database)
        from sqlalchemy import text

        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        print(f"setup: database {database}: migrate, seed demo, a dispatcher …", flush=True)
        command([*flask, "db", "upgrade"], cwd=ROOT, env=env)
        command([*flask, "seed", "demo", "--reports", "0"], cwd=ROOT, env=env)
        out = command(
            [*flask, "users", "create", "--username", "bench_desk", "--role", "dispatcher", "--no-password"],
            cwd=ROOT,
            env=env,
        )
        token = out.strip().splitlines()[-1].strip()
        import baseline_app

        baseline_app.create_table(url)

        flags = ["--log-level", "warning"]
        service = stack.enter_context(
            start(
                env=env,
                config=ROOT / "gunicorn.conf.py",
                workers=args.workers,
                flags=flags,
                log=tmp / "service.log",
                name="service",
            )
        )
        baseline_env = {**env, "BENCH_SERVICE_GUNICORN_CONF": str(ROOT / "gunicorn.conf.py")}
        baseline_env.pop("PYTHONPATH")
        baseline = stack.enter_context(
            start(
                "baseline_app:app",
                env=baseline_env,
                cwd=BENCH,
                config=BENCH / "baseline_gunicorn.conf.py",
                workers=args.workers,
                flags=flags,
                log=tmp / "baseline.log",
                name="baseline",
            )
        )
        port, base_port = service.port, baseline.port

        print(f"setup: {args.devices} cameras …", flush=True)
        devices: list[tuple[str, str]] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i, (lon, lat) in enumerate(member_points(args.devices, seed=11)):
            body = {
                "code": f"BENCH-CAM-{i:03d}",
                "kind": "camera",
                "lon": lon,
                "lat": lat,
                "district": "310120",
            }
            conn.request(
                "POST",
                "/api/v1/devices",
                body=json.dumps(body),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            created = json.loads(response.read())
            if response.status != 201:
                raise MeasurementError(f"registering a camera failed: {response.status} {created}")
            devices.append((created["device"]["code"], created["secret"]))
        conn.close()

        client = Client(port, args.clients)
        base_client = Client(base_port, args.clients)

        # 1. baseline
        def make_report(payload: Any) -> tuple[bytes, dict[str, str]]:
            return json.dumps(payload).encode(), {
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
            }

        report_jobs = [
            (0.0, "/api/v1/reports", {"category": "01-11", "lon": 121.4, "lat": 30.9, "n": i})
            for i in range(args.baseline_requests)
        ]
        base_shots, base_wall = base_client.run(report_jobs, make_report)
        base_ok = sum(1 for s in base_shots if s.status == 201)
        base_rate = base_ok / base_wall

        # 2. burst: per device, its alerts 1–2 s apart, starting at a random offset, within --seconds
        frame = base64.b64encode(tiny_jpeg()).decode()
        per_device = args.alerts // args.devices
        now = datetime.now(UTC)
        jobs: list[tuple[float, str, Any]] = []
        serial = 0
        for code, secret in devices:
            step = args.seconds / per_device
            t = rng.uniform(0, step)
            for k in range(per_device):
                cls = "vehicle_unloading" if k % 3 == 2 else "dumping"
                alert = {
                    "alert_id": f"{code}-{k:04d}",
                    "detection_class": cls,
                    "confidence": round(rng.uniform(0.55, 0.99), 3),
                    "detected_at": (now + timedelta(seconds=t - 2)).isoformat(),
                }
                if serial % 10 == 0:
                    alert["frame"] = frame
                jobs.append((t, ALERTS_PATH, (code, secret, {"alerts": [alert]})))
                t += step * rng.uniform(0.8, 1.2)
                serial += 1
        jobs.sort(key=lambda j: j[0])

        def make_alert(payload: Any) -> tuple[bytes, dict[str, str]]:
            code, secret, doc = payload
            body = json.dumps(doc).encode()
            return body, sign(code, secret, body)

        print(
            f"burst: {len(jobs)} alerts from {len(devices)} cameras over {args.seconds:.0f} s …", flush=True
        )
        # What the demo seed already holds (its demo camera's alerts): the figures below are the burst's.
        before = counts(url)
        shots, wall = client.run(jobs, make_alert)
        statuses = Counter(s.status for s in shots)
        accepted = statuses.get(200, 0)
        latencies = [s.seconds * 1000 for s in shots]
        first = {k: v - before[k] for k, v in counts(url).items()}

        # 3. re-send the same alerts, unpaced
        print("re-send: the same alerts again …", flush=True)
        resend_jobs = [(0.0, path, payload) for _, path, payload in jobs]
        resent, resend_wall = client.run(resend_jobs, make_alert)
        duplicates = sum(
            1 for s in resent if s.status == 200 and all(r["duplicate"] for r in s.body["results"])
        )
        second = {k: v - before[k] for k, v in counts(url).items()}

        print()
        print(f"alert intake burst — {len(devices)} cameras, {len(jobs)} alerts, "
              f"{args.workers} gunicorn workers, {args.clients} client threads, "
              f"PostgreSQL {server_url.host}")  # fmt: skip
        print(f"  baseline (token check + 1 row): {base_ok}/{len(base_shots)} in {base_wall:.1f} s = "
              f"{base_rate:.0f} req/s")  # fmt: skip
        print(f"  burst: {accepted}/{len(shots)} accepted in {wall:.1f} s = {accepted / wall:.0f} alerts/s; "
              f"latency p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms; "
              f"answers {dict(sorted(statuses.items()))}")  # fmt: skip
        print(f"  stored: {first['alert']} alerts for {first['folded_detections']} detections "
              f"(storm folding), {first['case_file']} cases opened from {first['report']} reports, "
              f"{first['pending_review']} alerts waiting for review, {first['realtime_warning']} real-time "
              "warnings queued")  # fmt: skip
        unchanged = all(first[k] == second[k] for k in ("alert", "alert_receipt", "report", "case_file"))
        print(f"  re-send: {duplicates}/{len(resent)} answered duplicate in {resend_wall:.1f} s = "
              f"{len(resent) / resend_wall:.0f} alerts/s; alerts, receipts, reports, cases "
              f"{'unchanged' if unchanged else 'CHANGED: ' + json.dumps([first, second])}")  # fmt: skip
        print(f"  ratios: burst accepted/s ÷ baseline req/s = {accepted / wall / base_rate:.2f}; "
              f"re-send alerts/s ÷ baseline req/s = {len(resent) / resend_wall / base_rate:.2f}")  # fmt: skip
        lost = first["alert_receipt"] != len(jobs) or accepted != len(jobs)
        if lost:
            print(
                f"  NOT every alert was accepted once: {first['alert_receipt']} receipts, {len(jobs)} alerts"
            )
        return 0 if (not lost and unchanged and duplicates == len(resent)) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (MeasurementError, NotServing) as error:
        print(f"measurement failed: {error}", file=sys.stderr)
        sys.exit(1)
