"""gunicorn settings for the web container: `gunicorn --config deploy/gunicorn.conf.py config.wsgi:application`.

Values come from the environment so one image fits every host:
  PORT              port to listen on (default 8000), all interfaces (the container's network)
  WEB_CONCURRENCY   worker processes (default: 2 x CPUs + 1, at most 8)
  GUNICORN_THREADS  threads per worker (default 1)
  GUNICORN_TIMEOUT  seconds before a silent worker is killed and restarted (default 60)
  GUNICORN_PRELOAD  1 (default): import the application once in the master, before forking
"""
import multiprocessing
import os
from pathlib import Path

_root = Path(__file__).resolve().parents[1]
# platform/ is a source root, not a package (it must not shadow the stdlib `platform`).
pythonpath = f"{_root},{_root / 'platform'}"
chdir = str(_root)

bind = f"0.0.0.0:{int(os.environ.get('PORT', '8000'))}"
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# The master imports the application (config/wsgi.py also imports every URL and view) and forks
# warm workers: no worker's first request pays seconds of imports, and a recycled worker is
# ready at once. Code changes then need a restart, not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100
# Docker's /tmp may be on a slow overlay; the heartbeat file belongs in memory.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Logs to stdout/stderr for the container runtime.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# No query strings (%(r)s, %(q)s) and no referer (%(f)s): URLs can carry search terms about
# children, and access logs are kept longer and read more widely than the data itself.
# %(U)s is the path only; %(L)s the request time in seconds.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
