"""A throwaway PgBouncer (Debian's /usr/sbin/pgbouncer) in front of a PostgreSQL server.

`with PgBouncer(users=[...]) as pooler:` writes pgbouncer.ini and a userlist into a private
folder, starts pgbouncer in the foreground as a child process, waits until it accepts connections,
and on the way out stops it (closing every server connection it held) and removes its files.

Any database name is passed through (`* = host=... port=...`), so the test databases
(test_liushou_gw0, ...) need no entry of their own. Authentication is `trust` with a userlist of
the given roles: the pooler answers for the server, which on this machine trusts local TCP. A
production pooler uses md5/scram with an auth_file or auth_query instead.

pgbouncer refuses to run as root: as root it is started with `-u postgres` (or $PGBOUNCER_USER),
and its folder is handed to that user.

Run for a whole CI run: `python -m benchmarks.pooler --port 6432 --pidfile var/pgbouncer.pid
--users liushou_app,liushou_owner --daemon` (stop it with `kill $(cat var/pgbouncer.pid)`).
"""
from __future__ import annotations

import argparse
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# The admin console user (`psql -p PORT -U pgbouncer pgbouncer`: SHOW POOLS, KILL db, ...).
ADMIN_USER = "pgbouncer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class PgBouncer:
    def __init__(self, *, upstream_host: str = "127.0.0.1", upstream_port: int = 5432,
                 pool_mode: str = "transaction", pool_size: int = 20, max_client_conn: int = 500,
                 port: int | None = None, users: Iterable[str] = (), workdir: Path | None = None,
                 pidfile: Path | None = None) -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.pool_mode, self.pool_size, self.max_client_conn = pool_mode, pool_size, max_client_conn
        self.port = port or free_port()
        self.users = [u for u in dict.fromkeys(users) if u]
        self._given_workdir = workdir
        self.workdir: Path | None = None
        self.pidfile = pidfile
        self.process: subprocess.Popen | None = None

    # ------------------------------------------------------------ files
    def config(self, workdir: Path) -> str:
        return "\n".join([
            "[databases]",
            # The server's TimeZone is fixed to UTC (what Django asks for with USE_TZ), so Django
            # never needs its session-level SET TIME ZONE on connect.
            f"* = host={self.upstream_host} port={self.upstream_port} timezone=UTC",
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {workdir / 'userlist.txt'}",
            f"admin_users = {ADMIN_USER}",
            f"stats_users = {ADMIN_USER}",
            f"pool_mode = {self.pool_mode}",
            f"default_pool_size = {self.pool_size}",
            "min_pool_size = 0",
            "reserve_pool_size = 0",
            f"max_client_conn = {self.max_client_conn}",
            # Session mode hands a server to the next client only after this reset; transaction
            # mode never runs it (transaction-local state ends with the transaction anyway).
            "server_reset_query = DISCARD ALL",
            # Drivers send these at connect; pgbouncer would otherwise refuse the startup packet.
            "ignore_startup_parameters = extra_float_digits,options",
            "server_idle_timeout = 60",
            "log_connections = 0",
            "log_disconnections = 0",
            f"logfile = {workdir / 'pgbouncer.log'}",
            "",
        ])

    def userlist(self) -> str:
        return "".join(f'{_quote(u)} ""\n' for u in [*self.users, ADMIN_USER])

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        return os.environ.get("PGBOUNCER_USER", "postgres")

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> PgBouncer:
        if not os.path.exists(BINARY):
            raise FileNotFoundError(f"pgbouncer not found ({BINARY}); Debian: apt-get install pgbouncer")
        self.workdir = Path(tempfile.mkdtemp(prefix="pgbouncer-", dir=self._given_workdir))
        ini = self.workdir / "pgbouncer.ini"
        (self.workdir / "userlist.txt").write_text(self.userlist())
        ini.write_text(self.config(self.workdir))
        cmd = [BINARY]
        run_as = self._run_as()
        if run_as:
            account = pwd.getpwnam(run_as)
            for path in (self.workdir, *self.workdir.iterdir()):
                os.chown(path, account.pw_uid, account.pw_gid)
            cmd += ["-u", run_as]
        self.process = subprocess.Popen([*cmd, str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        if self.pidfile:
            Path(self.pidfile).write_text(f"{self.process.pid}\n")
        return self

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self.process.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"pgbouncer did not listen on {self.port} within {timeout}s: {self.log()}")

    def log(self) -> str:
        path = self.workdir / "pgbouncer.log" if self.workdir else None
        return path.read_text()[-2000:] if path and path.exists() else ""

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            # SIGINT: shut down at once, closing clients and server connections (SIGTERM would
            # wait for clients to leave).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None
        if self.pidfile:
            Path(self.pidfile).unlink(missing_ok=True)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    # ------------------------------------------------------------ addresses
    def url(self, database_url: str) -> str:
        """The same user, password, database and query, through the pooler."""
        parts = urlsplit(database_url)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{self.port}" if auth else f"127.0.0.1:{self.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def admin_url(self) -> str:
        return f"postgresql://{ADMIN_USER}@127.0.0.1:{self.port}/pgbouncer"


# ---------------------------------------------------------------- admin console
def admin(url: str, command: str) -> list[dict]:
    """One admin console command (SHOW SERVERS, KILL db, RESUME db, ...); rows as dicts."""
    import psycopg

    # The console speaks the simple query protocol only, outside any transaction.
    with psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        cur = conn.execute(command)
        if cur.description is None:
            return []
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def release(admin_url: str, database: str) -> None:
    """Close every server connection pgbouncer holds to `database` (so it can be dropped), and let
    new clients in again right away."""
    admin(admin_url, f"KILL {database}")
    admin(admin_url, f"RESUME {database}")


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a PgBouncer in front of PostgreSQL (benchmarks/pooler.py).")
    parser.add_argument("--port", type=int, default=6432)
    parser.add_argument("--upstream-host", default="127.0.0.1")
    parser.add_argument("--upstream-port", type=int, default=5432)
    parser.add_argument("--pool-mode", default="transaction", choices=["session", "transaction", "statement"])
    parser.add_argument("--pool-size", type=int, default=20)
    parser.add_argument("--max-client-conn", type=int, default=500)
    parser.add_argument("--users", default="", help="comma-separated roles allowed to connect")
    parser.add_argument("--pidfile", type=Path, help="written once it accepts, removed on exit")
    parser.add_argument("--daemon", action="store_true", help="return once it accepts; it runs until SIGTERM")
    args = parser.parse_args(argv)
    if args.daemon and os.fork():
        # The parent returns once the child's pooler listens (or the child gave up).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if args.pidfile and args.pidfile.exists():
                return 0
            time.sleep(0.1)
        print("pgbouncer did not start", file=sys.stderr)
        return 1
    if args.daemon:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # let the caller's pipes close
            os.dup2(devnull, fd)
    pooler = PgBouncer(upstream_host=args.upstream_host, upstream_port=args.upstream_port, pool_mode=args.pool_mode,
                       pool_size=args.pool_size, max_client_conn=args.max_client_conn, port=args.port,
                       users=args.users.split(","), pidfile=None)
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with pooler:
        if args.pidfile:
            # This process's pid: killing it stops pgbouncer and removes its files.
            args.pidfile.write_text(f"{os.getpid()}\n")
        print(f"pgbouncer ({pooler.pool_mode}) on 127.0.0.1:{pooler.port}", flush=True)
        try:
            while not stop["now"] and pooler.process and pooler.process.poll() is None:
                time.sleep(0.2)
        finally:
            if args.pidfile:
                args.pidfile.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
