"""Imports every feature's API module so its routes are on ``observe.api.bp``.

Kept apart from ``observe.api`` itself: feature modules import ``bp`` from there, and a
package that imported them back would make the import order matter.
"""

from observe.calibration import api as _calibration_api  # noqa: F401
from observe.reports import views as _report_views  # noqa: F401
from observe.roster import api as _roster_api  # noqa: F401
from observe.rubrics import api as _rubrics_api  # noqa: F401
from observe.sync import views as _sync_views  # noqa: F401
