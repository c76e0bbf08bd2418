"""A real worker process runs our tasks with our settings, on every broker available."""
import pytest

from tests.support.celery_worker import broker_reachable, celery_worker, server_broker_urls
from tests.support.servers import require


def _brokers():
    return ["filesystem://"] + server_broker_urls()


@pytest.mark.parametrize("broker_url", _brokers())
def test_real_worker_runs_a_task(transactional_db, tmp_path, broker_url):
    require(broker_url.startswith("filesystem://") or broker_reachable(broker_url), f"broker {broker_url} is down")
    from tenancy.tasks import ping

    with celery_worker(tmp_path, broker_url) as worker:
        result = ping.delay()
        assert result.get(timeout=60) == "pong", worker.log()
        assert "succeeded" in worker.log()
