"""A checker for docker-compose.yml, usable without a Docker engine.

`problems(compose, ...)` returns human-readable problems (empty = fine). It takes the parsed data,
not the file, so the tests can feed it deliberately broken copies and prove each rule can fail.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

SERVICES = {"postgres", "redis", "web", "worker", "beat"}
APP_SERVICES = ("web", "worker", "beat")
IMAGES = {"postgres": "postgres:16", "redis": "redis:7"}
BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
HEALTH_COMMAND = "healthcheck"  # manage.py healthcheck: /healthz's checks, for services without HTTP
CONTAINER_ROOT = "/app/"  # WORKDIR in deploy/Dockerfile: the repository root inside the image
_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")


def as_list(command) -> list[str]:
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) if "=" in item else (item, "") for item in env)
        return {key: value for key, value in pairs}
    return {key: "" if value is None else str(value) for key, value in env.items()}


def is_beat(service: dict) -> bool:
    """Runs a Celery beat: `celery ... beat`, or a worker with an embedded beat (-B/--beat)."""
    cmd = as_list(service.get("entrypoint")) + as_list(service.get("command"))
    if "celery" not in " ".join(cmd):
        return False
    return "beat" in cmd or "-B" in cmd or "--beat" in cmd


def app_services(compose: dict) -> list[str]:
    """web, worker, beat, and any other service built from the project's image."""
    services = compose.get("services") or {}
    return [*APP_SERVICES, *(n for n, sv in services.items() if n not in APP_SERVICES and sv.get("build"))]


def worker_queues(service: dict) -> set[str]:
    """Queues a `celery ... worker` command consumes (-Q/--queues; the default queue without one)."""
    cmd = as_list(service.get("entrypoint")) + as_list(service.get("command"))
    if "celery" not in " ".join(cmd) or "worker" not in cmd:
        return set()
    for i, arg in enumerate(cmd):
        if arg in ("-Q", "--queues") and i + 1 < len(cmd):
            return set(cmd[i + 1].split(","))
        if arg.startswith("--queues="):
            return set(arg.split("=", 1)[1].split(","))
    return {environment(service).get("CELERY_TASK_DEFAULT_QUEUE") or "celery"}


def repo_paths(service: dict) -> list[str]:
    """Arguments of the entrypoint/command that name files of the repository."""
    found = []
    for arg in as_list(service.get("entrypoint")) + as_list(service.get("command")):
        if "${" in arg or "=" in arg:
            continue
        if arg.startswith(CONTAINER_ROOT):
            found.append(arg[len(CONTAINER_ROOT):])
        elif arg.endswith((".py", ".sh", ".conf")) or arg.startswith("deploy/"):
            found.append(arg)
    return found


def healthcheck_args(service: dict) -> list[str]:
    """The words of a service's healthcheck test (CMD or CMD-SHELL); empty when it has none."""
    check = service.get("healthcheck") or {}
    test = check.get("test")
    if check.get("disable") or not test:
        return []
    if isinstance(test, str):  # the string form is run by the shell
        return shlex.split(test)
    test = as_list(test)
    if test[0] == "CMD-SHELL":
        return shlex.split(" ".join(test[1:]))
    if test[0] == "NONE":
        return []
    return test[1:] if test[0] == "CMD" else test


def manage_commands(args: list[str]) -> list[str]:
    """Management commands run as `manage.py <command>` in a list of words."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg.endswith("manage.py")]


def management_command_exists(root: Path, command: str) -> bool:
    """A project app (<app>/management/commands/<command>.py) or Django itself provides it."""
    if any(root.glob(f"*/management/commands/{command}.py")):
        return True
    import django

    return (Path(django.__file__).parent / "core" / "management" / "commands" / f"{command}.py").is_file()


def module_refs(compose: dict) -> list[tuple[str, str]]:
    """(service, reference) for every Python object a command or a healthcheck names:
    `celery -A mod`, gunicorn's `mod:attr`, and `--scheduler mod:Class`."""
    refs = []
    for name, service in (compose.get("services") or {}).items():
        cmd = as_list(service.get("command")) + healthcheck_args(service)
        for i, arg in enumerate(cmd):
            nxt = cmd[i + 1] if i + 1 < len(cmd) else None
            if arg in ("-A", "--app") and nxt:
                refs.append((name, nxt))
            elif arg.startswith("--app="):
                refs.append((name, arg.split("=", 1)[1]))
            elif arg in ("-S", "--scheduler") and nxt:
                refs.append((name, nxt))
            elif re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", arg):
                refs.append((name, arg))
    return refs


def problems(compose: dict, *, required_env: list[str], root: Path, expected: set[str] = SERVICES,
             queues: list[str] | None = None) -> list[str]:
    """`expected`: the exact set of services (docker-compose.yml's five by default); `queues`: every
    Celery queue that tasks are routed to, each of which some worker service must consume."""
    out: list[str] = []
    services = compose.get("services") or {}

    # The expected services, no more, no fewer.
    if set(services) != expected:
        missing, extra = expected - set(services), set(services) - expected
        out.append(f"services must be exactly {sorted(expected)}; missing {sorted(missing)}, extra {sorted(extra)}")
    for name, image in IMAGES.items():
        if name in services and not str(services[name].get("image", "")).startswith(image):
            out.append(f"{name}: image must be {image}, not {services[name].get('image')!r}")

    # Exactly one beat, using the database scheduler, never scaled.
    beats = [name for name, service in services.items() if is_beat(service)]
    if beats != ["beat"]:
        out.append(f"exactly one service may run Celery beat, the 'beat' service; found {beats}")
    if "beat" in services:
        beat = services["beat"]
        if BEAT_SCHEDULER not in as_list(beat.get("command")):
            out.append(f"beat: must run with --scheduler {BEAT_SCHEDULER}")
        replicas = (beat.get("deploy") or {}).get("replicas", 1)
        if replicas != 1 or beat.get("scale", 1) != 1:
            out.append("beat: must not be scaled beyond one replica")

    # Exactly one container migrates (deploy/entrypoint.sh), never a scaled one: concurrent
    # migrations race each other.
    migrators = [n for n, sv in services.items() if any(a.endswith("deploy/entrypoint.sh") for a in as_list(sv.get("entrypoint")))]
    if len(migrators) != 1:
        out.append(f"exactly one service may run deploy/entrypoint.sh (which migrates); found {migrators}")
    for name in migrators:
        replicas = (services[name].get("deploy") or {}).get("replicas", 1)
        if str(replicas) != "1" or services[name].get("scale", 1) != 1:
            out.append(f"{name}: runs the migrations, so it must not be scaled beyond one replica")

    # Two database roles (config/db_roles.py): only the migrating service holds the owner's and the
    # superuser's URLs, and its owner URL names another role than the app's DATABASE_URL.
    for name, service in services.items():
        env = environment(service)
        for var in ("DATABASE_OWNER_URL", "DATABASE_ADMIN_URL"):
            if str(env.get(var) or "").strip() and name not in migrators:
                out.append(f"{name}: has {var}; only the migrating service may (the app runs as the runtime role)")
    for name in migrators:
        env = environment(services[name])
        owner = _url_user(env.get("DATABASE_OWNER_URL"))
        if not owner:
            out.append(f"{name}: migrates, so it needs DATABASE_OWNER_URL (the owner role)")
        elif owner == _url_user(env.get("DATABASE_URL")):
            out.append(f"{name}: DATABASE_OWNER_URL and DATABASE_URL name the same role {owner!r}; the app's role "
                       "must own nothing")

    # Every routed Celery queue has a consumer.
    if queues is not None:
        consumed = set().union(*(worker_queues(sv) for sv in services.values()))
        for queue in queues:
            if queue not in consumed:
                out.append(f"no worker consumes the Celery queue {queue!r} (its tasks would wait forever)")

    # Files mounted from the repository exist.
    for name, service in services.items():
        for mount in service.get("volumes") or []:
            source = str(mount).split(":")[0]
            if source.startswith("./") and not (root / source[2:]).exists():
                out.append(f"{name}: mounts {source}, which does not exist in the repository")

    for name in app_services(compose):
        service = services.get(name)
        if service is None:
            continue
        # The image is built from deploy/Dockerfile.
        build = service.get("build")
        if not build:
            out.append(f"{name}: must be built from the project's Dockerfile")
        else:
            build = {"context": build} if isinstance(build, str) else build
            dockerfile = root / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
            if not dockerfile.is_file():
                out.append(f"{name}: Dockerfile {dockerfile} does not exist")
        if not as_list(service.get("command")):
            out.append(f"{name}: has no command")
        # Files named by the command exist.
        for path in repo_paths(service):
            if not (root / path).exists():
                out.append(f"{name}: command names {path}, which does not exist in the repository")
        # Every variable production requires is provided, and compose fails loudly if its
        # source is unset (${X:?...}) rather than passing an empty string.
        env = environment(service)
        for var in required_env:
            value = env.get(var)
            if value is None or not value.strip():
                out.append(f"{name}: environment lacks {var}, which production settings require")
                continue
            for expr in _INTERPOLATION.findall(value):
                if "?" not in expr and not re.search(r"-.+", expr):
                    out.append(f"{name}: {var} interpolates ${{{expr}}}, which is empty when unset; use ${{X:?message}}")

    # Health: web's healthcheck asks /healthz; every long-running app service has a healthcheck that
    # checks the database and the broker (/healthz or `manage.py healthcheck`) and names only
    # management commands that exist (module references: module_refs); every service_healthy
    # dependency has a healthcheck.
    web = services.get("web") or {}
    test = " ".join(as_list((web.get("healthcheck") or {}).get("test")))
    if "/healthz" not in test:
        out.append("web: healthcheck must call /healthz")
    for name in app_services(compose):
        service = services.get(name)
        if service is None or str(service.get("restart")) == "no":
            continue  # a one-shot job (migrate) exits; there is nothing to keep checking
        args = healthcheck_args(service)
        if not args:
            out.append(f"{name}: has no healthcheck")
            continue
        commands = manage_commands(args)
        if "/healthz" not in " ".join(args) and HEALTH_COMMAND not in commands:
            out.append(f"{name}: healthcheck must check the database and the broker "
                       f"(/healthz or `manage.py {HEALTH_COMMAND}`)")
        for command in commands:
            if not management_command_exists(root, command):
                out.append(f"{name}: healthcheck runs manage.py {command}, which does not exist")
    for name, service in services.items():
        deps = service.get("depends_on") or {}
        if isinstance(deps, list):
            out.append(f"{name}: depends_on must use condition: service_healthy (list form has none)")
            continue
        for dep, spec in deps.items():
            condition = (spec or {}).get("condition")
            if condition == "service_completed_successfully" and str((services.get(dep) or {}).get("restart")) == "no":
                continue  # a one-shot job (migrate): waiting for it to finish is the point
            if condition != "service_healthy":
                out.append(f"{name}: depends_on {dep} must use condition: service_healthy, not {condition!r}")
            elif not (services.get(dep) or {}).get("healthcheck"):
                out.append(f"{name}: depends on {dep} being healthy, but {dep} has no healthcheck")
    for name in ("web",):
        deps = (services.get(name) or {}).get("depends_on") or {}
        for needed in ("postgres", "redis"):
            if needed not in deps:
                out.append(f"{name}: must depend on {needed}")
    for name in ("worker", "beat"):
        deps = (services.get(name) or {}).get("depends_on") or {}
        if name in services and "web" not in deps:
            out.append(f"{name}: must wait for web (which migrates) to be healthy")

    # Persistent data lives in named volumes.
    declared = set((compose.get("volumes") or {}).keys())
    postgres_mounts = [str(v) for v in (services.get("postgres") or {}).get("volumes") or []]
    if not any(m.endswith(":/var/lib/postgresql/data") and m.split(":")[0] in declared for m in postgres_mounts):
        out.append("postgres: data must be on a named volume at /var/lib/postgresql/data")
    for name in ["web", "worker", *(n for n in services if n not in ("web", "worker") and worker_queues(services[n]))]:
        service = services.get(name) or {}
        media_root = environment(service).get("DJANGO_MEDIA_ROOT")
        mounts = [str(v) for v in service.get("volumes") or []]
        if name in services and not (
            media_root and any(m.split(":")[0] in declared and m.split(":")[1] == media_root for m in mounts)
        ):
            out.append(f"{name}: DJANGO_MEDIA_ROOT must be a named volume shared with the other app services")
    return out


def _url_user(url) -> str:
    """The user of a database URL, also when its password is a ${...} interpolation."""
    match = re.match(r"^[a-z]+://([^:@/]+)", str(url or "").strip())
    return match.group(1) if match else ""


# ---------------------------------------------------------------- override files
class _Reset:
    """`!reset`: the override removes the base's value."""


class _Override:
    """`!override value`: the override replaces the base's value instead of merging."""

    def __init__(self, value):
        self.value = value


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!reset", lambda loader, node: _Reset())
_Loader.add_constructor(
    "!override",
    lambda loader, node: _Override(loader.construct_object(node, deep=True)
                                   if not isinstance(node, yaml.MappingNode) else loader.construct_mapping(node, deep=True)))


def load(path: Path) -> dict:
    """A compose file, understanding the `!reset` and `!override` tags of override files."""
    return yaml.load(path.read_text(), Loader=_Loader) or {}


# Sequences that an override replaces; other sequences (ports, volumes, ...) are appended to.
_REPLACED = {"command", "entrypoint", "test"}


def _merge(base, over, key: str = ""):
    if isinstance(over, _Reset):
        return None
    if isinstance(over, _Override):
        return over.value
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            merged = _merge(base.get(k), v, k) if k in base else _merge(None, v, k)
            if merged is None and isinstance(v, _Reset):
                out.pop(k, None)
            else:
                out[k] = merged
        return out
    if isinstance(base, list) and isinstance(over, list) and key not in _REPLACED:
        return base + [x for x in over if x not in base]
    if isinstance(over, dict):
        return {k: _merge(None, v, k) for k, v in over.items() if not isinstance(v, _Reset)}
    return over


def _resolve_extends(name: str, service: dict, own_file: Path, own_services: dict) -> dict:
    ext = service.get("extends")
    if not ext:
        return service
    ext = {"service": ext} if isinstance(ext, str) else ext
    if ext.get("file"):
        other = (own_file.parent / ext["file"]).resolve()
        pool = load(other).get("services") or {}
        base = _resolve_extends(ext["service"], pool[ext["service"]], other, pool)
    else:
        base = _resolve_extends(ext["service"], own_services[ext["service"]], own_file, own_services)
    rest = {k: v for k, v in service.items() if k != "extends"}
    return _merge(base, rest)


def merged(base_file: Path, *override_files: Path) -> dict:
    """What `docker compose -f base -f override ...` runs, for the keys these checks read:
    mappings merge, command/entrypoint/healthcheck test are replaced, other lists are appended to,
    `!reset` removes and `extends` copies a service (also from another file)."""
    out = load(base_file)
    for path in override_files:
        over = load(path)
        services = dict(out.get("services") or {})
        for name, service in (over.get("services") or {}).items():
            service = _resolve_extends(name, service, path, over.get("services") or {})
            services[name] = _merge(services[name], service) if name in services else _merge(None, service)
        out = {**_merge({k: v for k, v in out.items() if k != "services"},
                        {k: v for k, v in over.items() if k != "services"}), "services": services}
    return out
