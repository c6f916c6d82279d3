"""Settings screen: a placeholder until its own issue lands."""

from ui.auth import require_role
from ui.layout import under_construction

require_role("settings")
under_construction("settings")
