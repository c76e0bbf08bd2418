from tests.support.schools import home, semester, today  # noqa: F401  (fixtures)
