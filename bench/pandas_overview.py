"""The overview as DESIGN.md's baselines draw it (bench/baselines.py): run by AppTest, never by the app."""

from bench.baselines import page
from ui.auth import require_role

require_role("overview")
page()
