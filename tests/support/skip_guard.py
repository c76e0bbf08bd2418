"""Session-level skip guard: a run that skipped what it had to run, or ran nothing, is not green.

Registered by tests/conftest.py (so `make test` and `.ci/run` always have it):
- with REQUIRE_SERVICES=1 (`.ci/run`), any skipped test fails the session (exit 1), and a summary
  lists each skip with its reason. `require()` already fails the tests that use it; this also
  catches every other way to skip (pytest.skip, importorskip, skip markers, module-level skips).
- in every mode, a session in which no test passed or failed but some were skipped exits 5, like
  pytest's own "no tests collected": `make test` must not report success when nothing ran.
A targeted run (`-k`, PYTEST_ARGS) that runs at least one test is judged only by the first rule.
"""
from __future__ import annotations

import pytest

from tests.support.servers import services_required

PLUGIN_NAME = "skip-guard"


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: reason")
        text = str(longrepr[2])
        return text[len("Skipped: "):] if text.startswith("Skipped: ") else text
    return str(longrepr)


class SkipGuard:
    def __init__(self, required: bool):
        self.required = required
        self.skips: list[tuple[str, str]] = []
        self.ran = 0  # tests that passed or failed (xfail/xpass count: the test body ran)
        self.verdict: str | None = None

    def pytest_collectreport(self, report):
        # A module-level skip (pytest.skip(allow_module_level=True), importorskip) hides a whole file.
        if report.skipped:
            self.skips.append((report.nodeid, _reason(report)))

    def pytest_runtest_logreport(self, report):
        if hasattr(report, "wasxfail"):
            if report.when == "call":
                self.ran += 1
        elif report.skipped:
            self.skips.append((report.nodeid, _reason(report)))
        elif report.when == "call" or report.failed:
            self.ran += 1

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if session.exitstatus != pytest.ExitCode.OK or not self.skips:
            return
        if self.required:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
            self.verdict = (f"REQUIRE_SERVICES=1, but {len(self.skips)} skipped: CI must run every test "
                            f"(start or install what each one needs)")
        elif self.ran == 0:
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
            self.verdict = f"no test ran: all {len(self.skips)} selected were skipped"

    def pytest_terminal_summary(self, terminalreporter):
        if self.verdict is None:
            if self.required and self.skips:  # the session already failed for another reason
                self.verdict = f"REQUIRE_SERVICES=1, but {len(self.skips)} skipped"
            else:
                return
        terminalreporter.section("skip guard", sep="=", red=True, bold=True)
        terminalreporter.line(self.verdict, red=True)
        for nodeid, reason in self.skips:
            terminalreporter.line(f"SKIPPED {nodeid}: {reason}")


def pytest_configure(config):
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(SkipGuard(services_required()), PLUGIN_NAME)
