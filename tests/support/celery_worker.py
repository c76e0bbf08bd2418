"""A real Celery worker process for task tests, on a real broker.

On a bare machine the broker is kombu's filesystem transport in a temporary folder (no server
needed). When TEST_BROKER_URLS names servers (CI: Redis and RabbitMQ), tests can run on those too.
The worker talks to the test database, so tests that use it need `transactional_db`.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.support.db import database_url

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    return database_url(connection.settings_dict)


def server_broker_urls() -> list[str]:
    return os.environ.get("TEST_BROKER_URLS", "").split()


def broker_reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


class WorkerHandle:
    def __init__(self, proc: subprocess.Popen, log_path: Path, env: dict):
        self.proc, self.log_path, self.env = proc, log_path, env

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready in {timeout}s:\n{self.log()}")

    def kill_child_processes(self) -> list[int]:
        """SIGKILL the pool processes executing tasks (as an OOM or a crash would)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process first, so it cannot see its pool die and
        requeue the job itself (that is the pool-kill case), then the orphaned pool processes."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        if self.proc.poll() is None:
            self.proc.kill()
        for pid in (int(p) for p in out.stdout.split()):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def configured_app(broker_url: str, queue: str, result_dir: Path, broker_dir: Path):
    """Point this (test) process's Celery app at the same broker/queue/results as the worker."""
    from config.celery_app import app

    # Django-namespaced app: the CELERY_* keys win over the lowercase ones.
    keys = ("CELERY_BROKER_URL", "CELERY_TASK_DEFAULT_QUEUE", "CELERY_RESULT_BACKEND",
            "CELERY_BROKER_TRANSPORT_OPTIONS")
    saved = {k: app.conf.get(k) for k in keys}
    opts = dict(app.conf.broker_transport_options or {})
    if broker_url.startswith("filesystem://"):
        for sub in ("queue", "processed", "control"):
            (broker_dir / sub).mkdir(parents=True, exist_ok=True)
        opts = {"data_folder_in": str(broker_dir / "queue"), "data_folder_out": str(broker_dir / "queue"),
                "processed_folder": str(broker_dir / "processed"), "store_processed": False,
                "control_folder": str(broker_dir / "control")}
    app.conf.update(CELERY_BROKER_URL=broker_url, CELERY_TASK_DEFAULT_QUEUE=queue,
                    CELERY_RESULT_BACKEND=f"file://{result_dir}", CELERY_BROKER_TRANSPORT_OPTIONS=opts)
    # Celery reads the CELERY_BROKER_URL environment variable before its configuration.
    saved_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    _reset_connections(app)
    try:
        yield app
    finally:
        app.conf.update(**saved)
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        _reset_connections(app)


def _reset_connections(app) -> None:
    """Drop cached broker pools and result backend so the new configuration is used."""
    # Not force_close_all(): kombu keeps producer pools in a global registry keyed by URL, and a
    # closed pool there would break the next test that uses the same broker.
    app._after_fork()  # clears the connection and producer pools
    app._backend_cache = None
    if hasattr(app._local, "backend"):
        del app._local.backend


def worker_queues(queue: str) -> str:
    from config.queues import queues

    return ",".join(queues(queue))


@contextmanager
def celery_worker(tmp_path: Path, broker_url: str = "filesystem://", concurrency: int = 1, extra_env=None,
                  queue: str | None = None):
    """Start a worker subprocess on `broker_url` with a private queue (or `queue`, to start a
    fresh worker on the queue of one that died); yield a WorkerHandle."""
    queue = queue or f"test-{uuid.uuid4().hex[:10]}"
    result_dir = tmp_path / "results"
    broker_dir = tmp_path / "broker"
    result_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_FILESYSTEM_BROKER_DIR": str(broker_dir),
        "CELERY_RESULT_BACKEND": f"file://{result_dir}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    })
    env.update(extra_env or {})
    log_path = tmp_path / "worker.log"
    # The private queue and its exports queue (config/queues.py): routed tasks must find this worker.
    cmd = [sys.executable, "-m", "celery", "-A", "config.celery_app", "worker", "-Q", worker_queues(queue),
           "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
           "--without-mingle", "--without-gossip", "--without-heartbeat", "-n", f"{queue}@%h"]
    with open(log_path, "wb") as log, configured_app(broker_url, queue, result_dir, broker_dir) as app:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        handle = WorkerHandle(proc, log_path, env)
        handle.app = app
        handle.queue = queue
        try:
            handle.wait_ready()
            yield handle
        finally:
            handle.stop()
