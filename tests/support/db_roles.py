"""pytest plugin: the test database belongs to the OWNER role, the tests connect as the RUNTIME role.

pytest-django's own `django_db_setup` runs with the default connection switched to the owner's
credentials (config/db_roles.as_owner), so `test_<name>` is created, migrated (which also grants
the runtime role its privileges) and dropped by the owner, exactly as `migrate` runs in production.
The tests then connect as the runtime role with production's privileges, no more: transactional
tests empty the tables through `manage.py flush`, which runs as the owner too
(ops/management/commands/flush.py), so the runtime role never needs TRUNCATE, even here.
"""
from __future__ import annotations

import pytest
from pytest_django import fixtures as pytest_django_fixtures

from config.db_roles import as_owner


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_use_migrations,
                    django_db_keepdb, django_db_createdb, django_db_modify_db_settings):
    steps = pytest_django_fixtures.django_db_setup.__wrapped__(
        request, django_test_environment, django_db_blocker, django_db_use_migrations, django_db_keepdb,
        django_db_createdb, django_db_modify_db_settings)
    with as_owner():
        next(steps)  # create and migrate
    yield
    with as_owner():
        next(steps, None)  # drop
