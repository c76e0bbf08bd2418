"""Private servers that a fault test may stop and start: a Redis and a PostgreSQL cluster of its
own, in the test's tmp_path, on free ports. The machine's shared services are never touched.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.servers import require


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            reachable = s.connect_ex(("127.0.0.1", port)) == 0
        if reachable == up:
            return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} still {'down' if up else 'up'} after {timeout}s")


class PrivateRedis:
    """`redis-server` on a fixed free port; stop() and start() keep the same URL."""

    def __init__(self, directory: Path):
        self.binary = shutil.which("redis-server")
        require(self.binary is not None, "redis-server is not installed (apt-get install redis-server)")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.dir / "redis.log", "ab")
        # No persistence: the outbox, not the broker, is what must survive here.
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        _wait_port(self.port, up=False)


def pg_bin_dir() -> Path | None:
    """PostgreSQL's programs: the ones bundled with the `pgserver` package (always installed)."""
    try:
        import pgserver
    except ImportError:
        return None
    path = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return path if (path / "pg_ctl").exists() else None


class PrivatePostgres:
    """An initdb cluster in `directory`, listening on 127.0.0.1:<free port>, superuser `postgres`
    (trust). stop()/start()/restart() through pg_ctl."""

    def __init__(self, directory: Path):
        bindir = pg_bin_dir()
        require(bindir is not None, "no PostgreSQL binaries (the pgserver package) found")
        self.bin = bindir
        self.data = directory / "data"
        self.sockets = directory / "sock"
        self.log = directory / "postgres.log"
        self.port = free_port()
        self.sockets.mkdir(parents=True, exist_ok=True)
        self.user = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: like pgserver itself, run it as the `pgserver` user.
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists("pgserver")
            ensure_prefix_permissions(directory)
            for path in (directory, self.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            self.user = entry.pw_uid
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--no-locale"], check=True, capture_output=True, user=self.user)

    def admin_url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.sockets} -c fsync=off"
        out = subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                              "-w", "-t", "60", *args], capture_output=True, text=True, user=self.user)
        if out.returncode:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {out.stdout}{out.stderr}\n{log}")

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")


def export_files(job) -> list[str]:
    """The files in a compliance export's folder that belong to this job: its own name, or a
    copy Django's storage would have made beside it (`export-<id>_<random>.xlsx`)."""
    from django.core.files.storage import default_storage

    from compliance.exports import storage_key

    folder = storage_key(job).rsplit("/", 1)[0]
    pattern = re.compile(rf"^export-{job.pk}(_\w+)?\.xlsx")
    try:
        _dirs, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if pattern.match(n))
