from tests.reports.conftest import new_session, push_as, score, team  # noqa: F401 (fixtures)
