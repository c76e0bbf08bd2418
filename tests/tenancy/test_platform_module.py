"""platform/ must stay a source root: a package there would shadow the stdlib module."""
import sysconfig
from pathlib import Path

from tests.support.celery_worker import celery_worker

ROOT = Path(__file__).resolve().parents[2]


def test_platform_folder_has_no_init():
    assert (ROOT / "platform").is_dir()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_is_stdlib_in_test_process():
    import platform

    assert hasattr(platform, "system"), platform
    assert "site-packages" not in (platform.__file__ or "")
    assert not str(platform.__file__).startswith(str(ROOT))


def test_import_platform_is_stdlib_in_a_real_celery_worker(db, tmp_path):
    # A real `celery worker` process (filesystem broker: no server needed) runs
    # config.platform_module_file and reports which file `import platform` gave it.
    with celery_worker(tmp_path) as worker:
        result = worker.app.send_task("config.platform_module_file")
        path = Path(result.get(timeout=60))
    assert path.name == "platform.py", path
    assert path.parent.resolve() == Path(sysconfig.get_paths()["stdlib"]).resolve(), path
    assert ROOT not in path.resolve().parents, path
