from tests.backup.test_archive import databases, district, stamped  # noqa: F401 (fixtures)
from tests.reports.conftest import new_session, push_as, score, team  # noqa: F401 (fixtures)
