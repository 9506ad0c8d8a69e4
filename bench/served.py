"""gunicorn on 127.0.0.1 for the benchmarks, scripts/fuzz.py and the PostGIS tests: started on a free
port in its own process group, up once `/livez` answers, stopped with SIGINT (gunicorn's quick
shutdown) and SIGKILL after a timeout.

    from bench.served import start              # the repository root on sys.path

    with start(env=env, workers=2, log=tmp / "gunicorn.log") as server:   # up once /livez answers
        urllib.request.urlopen(server.base + "/api/v1/geolocate?lon=121.2&lat=30.9")

Without `with`, `start` only starts it: `Gunicorn.wait_up` and `Gunicorn.stop` are the same in steps
(bench/intake.py starts all its servers before waiting for any). A server that exits or does not
answer in time raises `NotServing`, whose message ends with the tail of the server's log (with
`log=None` the output goes to this process's own stdout/stderr, where it has been seen already).

Without `config`, gunicorn reads `gunicorn.conf.py` of `cwd` (the repository root by default: the
service's settings and worker warm-up), as `make run` does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
# A shared machine (CI, two cores) can take minutes to import and warm the workers.
START_TIMEOUT = 240.0
STOP_TIMEOUT = 10.0
LOG_TAIL = 3000  # characters of the log shown when the server did not come up


class NotServing(RuntimeError):
    """gunicorn exited or did not answer in time; the message ends with the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gunicorn:
    """A gunicorn master started here (its own process group) and where it listens."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path | None
    start_timeout: float = START_TIMEOUT

    def __enter__(self) -> Gunicorn:
        """Wait until it answers (stopping it if it does not)."""
        try:
            self.wait_up(self.start_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The master's pid (the workers are its children)."""
        return self.process.pid

    def output(self) -> str:
        """What the server has written to its log so far ('' without a log file)."""
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def _failed(self, what: str) -> NotServing:
        tail = self.output()[-LOG_TAIL:]
        where = f"; the end of {self.log}:\n{tail}" if self.log is not None else ""
        return NotServing(f"{self.name} {what}{where}")

    def wait_up(self, timeout: float = START_TIMEOUT) -> None:
        """Until `/livez` gets an HTTP answer (any status: an older version of the service may lack
        the route); NotServing if the server exits or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise self._failed(f"exited with status {self.process.returncode} before it answered")
            try:
                with urllib.request.urlopen(self.base + "/livez", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise self._failed(f"did not answer within {timeout:g} s") from None
                time.sleep(0.2)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Quick shutdown (SIGINT) of the process group; SIGKILL it after `timeout` s. The exit status."""
        if self.process.poll() is not None:
            return self.process.returncode
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        except ProcessLookupError:
            pass
        return self.process.poll()


def start(
    app: str = "wsgi:app",
    *,
    env: Mapping[str, str],
    cwd: Path = ROOT,
    config: Path | None = None,
    workers: int = 2,
    flags: Sequence[str] = (),
    log: Path | None = None,
    name: str = "gunicorn",
    timeout: float = START_TIMEOUT,
) -> Gunicorn:
    """Start `gunicorn APP` on a free 127.0.0.1 port in `cwd` (where APP is imported from) without
    waiting for it. `config`: a settings file (else gunicorn reads `cwd`/gunicorn.conf.py if there is
    one); `flags`: more command-line flags (after --bind and --workers); `log`: a file for its stdout
    and stderr (None: this process's). As a context manager it waits until the server answers (at most
    `timeout` s) and stops it on the way out."""
    port = free_port()
    cmd = [str(GUNICORN), *(["-c", str(config)] if config is not None else [])]
    cmd += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), *flags, app]
    if log is None:
        process = subprocess.Popen(cmd, cwd=cwd, env=dict(env), start_new_session=True)
    else:
        with log.open("wb") as out:
            process = subprocess.Popen(
                cmd, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
    return Gunicorn(name, process, port, log, timeout)
