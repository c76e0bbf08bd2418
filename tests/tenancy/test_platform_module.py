"""platform/ must stay a source root: a package there would shadow the stdlib module."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_folder_has_no_init():
    assert (ROOT / "platform").is_dir()
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_is_stdlib_in_test_process():
    import platform

    assert hasattr(platform, "system"), platform
    assert "site-packages" not in (platform.__file__ or "")
    assert not str(platform.__file__).startswith(str(ROOT))


def test_import_platform_is_stdlib_in_celery_worker_process():
    # The worker's import path (repo root + platform/ on sys.path, Celery app loaded).
    code = (
        "import sys; sys.path[:0]=['.', 'platform'];"
        "import config.celery_app, platform;"
        "print(platform.__file__); print(platform.system())"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    path, system = out.stdout.split()[:2]
    assert not path.startswith(str(ROOT)) and system
