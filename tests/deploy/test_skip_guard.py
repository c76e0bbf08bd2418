"""`make test` and `.ci/run` exit codes: skips under REQUIRE_SERVICES=1 fail, an all-skipped run fails.

Each case runs pytest in a subprocess on a tiny test file with the skip guard plugin
(tests/support/skip_guard.py) and nothing else of the project's configuration, so what it
checks is the plugin's verdict alone; the last cases go through the Makefile's `test` target.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import servers, skip_guard

ROOT = Path(__file__).resolve().parents[2]

TINY = '''
import pytest

def test_passes():
    assert True

def test_needs_a_broker():
    pytest.skip("broker redis://nowhere is down")
'''
ALL_SKIPPED = '''
import pytest

@pytest.mark.skip(reason="Debian's chromium is not installed")
def test_browser():
    pass

def test_broker():
    pytest.skip("broker is down")
'''
MODULE_SKIP = '''
import pytest

pytest.importorskip("no_such_module_anywhere", reason="optional module missing")

def test_never_collected():
    pass
'''
FAILS = '''
import pytest

def test_fails():
    assert 1 == 2

def test_skips():
    pytest.skip("broker is down")
'''
ONLY_XFAIL = '''
import pytest

@pytest.mark.xfail(reason="known bug", strict=True)
def test_known_bug():
    assert 1 == 2
'''


def _env(require_services: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REQUIRE_SERVICES", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "DJANGO_SETTINGS_MODULE")}
    env["PYTHONPATH"] = str(ROOT)
    # Only the guard: entry-point plugins (pytest-django, schemathesis, ...) cost seconds per run.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if require_services:
        env["REQUIRE_SERVICES"] = "1"
    return env


def _write(tmp_path: Path, source: str) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    path = tmp_path / "test_tiny.py"
    path.write_text(textwrap.dedent(source))
    return path


def run(tmp_path: Path, source: str, *args: str, require_services: bool = False) -> subprocess.CompletedProcess:
    path = _write(tmp_path, source)
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.support.skip_guard", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
           "-q", *args, str(path)]
    return subprocess.run(cmd, cwd=tmp_path, env=_env(require_services), capture_output=True, text=True,
                          timeout=120)


def test_this_session_has_the_guard(request):
    assert request.config.pluginmanager.has_plugin(skip_guard.PLUGIN_NAME)


def test_a_skip_under_require_services_fails_the_session_and_names_it(tmp_path):
    out = run(tmp_path, TINY, require_services=True)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 passed, 1 skipped" in out.stdout
    assert "REQUIRE_SERVICES=1, but 1 skipped" in out.stdout
    assert "SKIPPED test_tiny.py::test_needs_a_broker: broker redis://nowhere is down" in out.stdout


def test_the_same_skip_on_a_bare_machine_passes(tmp_path):
    out = run(tmp_path, TINY)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "skip guard" not in out.stdout


def test_a_module_level_skip_counts_too(tmp_path):
    out = run(tmp_path, MODULE_SKIP, require_services=True)
    assert out.returncode != 0, out.stdout + out.stderr
    assert "optional module missing" in out.stdout


@pytest.mark.parametrize("require_services", [False, True])
def test_a_session_where_everything_skipped_is_not_green(tmp_path, require_services):
    out = run(tmp_path, ALL_SKIPPED, require_services=require_services)
    assert out.returncode != 0, out.stdout + out.stderr
    assert "SKIPPED test_tiny.py::test_browser: Debian's chromium is not installed" in out.stdout
    assert "SKIPPED test_tiny.py::test_broker: broker is down" in out.stdout
    if not require_services:
        assert out.returncode == pytest.ExitCode.NO_TESTS_COLLECTED
        assert "no test ran: all 2 selected were skipped" in out.stdout


def test_a_targeted_run_that_runs_a_test_passes(tmp_path):
    # -k (PYTEST_ARGS) deselecting the skipped test leaves a normal passing run, even in CI.
    out = run(tmp_path, TINY, "-k", "passes", require_services=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 1 deselected" in out.stdout


def test_a_targeted_run_that_selects_only_skips_fails(tmp_path):
    out = run(tmp_path, TINY, "-k", "broker")
    assert out.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, out.stdout + out.stderr


def test_selecting_nothing_is_pytests_exit_5(tmp_path):
    out = run(tmp_path, TINY, "-k", "nothing_matches_this")
    assert out.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, out.stdout + out.stderr


def test_a_failure_stays_a_failure_and_still_lists_the_skips(tmp_path):
    out = run(tmp_path, FAILS, require_services=True)
    assert out.returncode == pytest.ExitCode.TESTS_FAILED, out.stdout + out.stderr
    assert "SKIPPED test_tiny.py::test_skips: broker is down" in out.stdout


def test_an_expected_failure_counts_as_a_test_that_ran(tmp_path):
    out = run(tmp_path, ONLY_XFAIL, require_services=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 xfailed" in out.stdout


def test_require_fails_instead_of_skipping_under_require_services(monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_SERVICES=1 but the broker is down"):
        servers.require(False, "the broker is down")
    monkeypatch.delenv("REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception, match="the broker is down"):
        servers.require(False, "the broker is down")
    servers.require(True, "never raised")


# ------------------------------------------------------------------ through the Makefile

def make_test(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    """`make test PYTEST_ARGS=...` on the tiny file, without reinstalling (-o install)."""
    path = _write(tmp_path, source)
    args = (f"-p tests.support.skip_guard -p no:cacheprovider -c {tmp_path / 'pytest.ini'} "
            f"--rootdir {tmp_path} -q {path}")
    return subprocess.run(["make", "--no-print-directory", "-o", "install", "test",
                           f"BIN={Path(sys.executable).parent}", f"PYTEST_ARGS={args}"],
                          cwd=ROOT, env=_env(require_services=False), capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("source,ok", [(TINY, True), (ALL_SKIPPED, False), (FAILS, False)],
                         ids=["tests-ran", "all-skipped", "a-failure"])
def test_make_test_exits_zero_only_when_tests_ran_and_passed(tmp_path, source, ok):
    out = make_test(tmp_path, source)
    assert (out.returncode == 0) is ok, out.stdout + out.stderr
