"""Every text key the code uses exists in both catalogs, so no screen shows a raw key."""

import re
from pathlib import Path

import chinese_calendar
import pytest

from domain.activities import ActivityStatus, Category, Repeat, SignupKind, SignupStatus
from domain.applications import AppliedFor, AppStatus, Channel, Opinion
from domain.council import Attendance, Intent, MeetingKind, TermSource, TermStatus, Vote
from domain.organisations import OrgKind, OrgStatus
from domain.roles import Role
from domain.selections import AchievementCategory, AchievementStatus, NomineeKind, PublicityChannel, RoundStatus
from ui.benefits import LEDGER_COLUMNS, RECORD_COLUMNS
from ui.i18n import LANGUAGES, catalog, format_date, t
from ui.navigation import PAGES

ROOT = Path(__file__).resolve().parents[2]
OVERVIEW_KPIS = ("members", "new_members", "pending", "median_review_days", "seats_filled", "terms_ending",
                 "activities", "volunteers", "hours", "trainings", "people", "meetings", "attendance")  # fmt: skip
OVERVIEW_CHARTS = ("kinds", "provinces", "new_members", "funnel", "reviews", "activities", "hours", "organisers",
                   "council")  # fmt: skip
SOURCE_DIRS = ("pages", "ui", "db", "domain")
STATIC_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
ERROR_KEY = re.compile(r"""(?:Error|Denied|Record|NotFound)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")
NOTICE_KEY = re.compile(r"""["'](login\.[a-z_]+)["']""")
KEY_ARG = re.compile(r"""\bkey=["']([a-z_]+\.[a-z0-9_.]+)["']""")
FIELD_ARG = re.compile(r"""\bfield=["']([a-z_]+)["']""")
ACTION = re.compile(
    r"""["']((?:user|organisation|setting|council_session|council_term|application|meeting|activity|signup|selection_round|nomination|achievement)\.[a-z_]+)["']"""
)
TODO_KEY = re.compile(r"""TodoItem\(\s*["'](todo\.[a-z_]+)["']""")
RECORD_TYPE = re.compile(r"""record_type=["']([a-z_]+)["']""")
DEFAULT_KEY = re.compile(r"""key: str = ["']([a-z_]+\.[a-z0-9_.]+)["']""")


def _source_files() -> list[Path]:
    files = [ROOT / "app.py"]
    for folder in SOURCE_DIRS:
        files.extend(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)
    return files


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in _source_files():
        text = path.read_text(encoding="utf-8")
        for pattern in (STATIC_KEY, ERROR_KEY, KEY_ARG, DEFAULT_KEY, NOTICE_KEY, TODO_KEY):
            keys.update(pattern.findall(text))
        keys.update(f"field.{name}" for name in FIELD_ARG.findall(text))
        if "db/services" in path.as_posix():
            keys.update(f"action.{name}" for name in ACTION.findall(text))
            keys.update(f"record.{name}" for name in RECORD_TYPE.findall(text))
    keys.update(spec.title_key for spec in PAGES)
    keys.update(f"role.{r.value}" for r in Role)
    keys.update(f"org_kind.{k.value}" for k in OrgKind)
    keys.update(f"org_status.{s.value}" for s in OrgStatus)
    keys.update(f"app_status.{s.value}" for s in AppStatus)
    # change_status writes action "application.<target status>"
    keys.update(f"action.application.{s.value}" for s in AppStatus)
    keys.update(f"channel.{c.value}" for c in Channel)
    keys.update(f"applied_for.{a.value}" for a in AppliedFor)
    keys.update(f"opinion.{o.value}" for o in Opinion)
    keys.update(f"meeting_kind.{k.value}" for k in MeetingKind)
    keys.update(f"attendance.{a.value}" for a in Attendance)
    keys.update(f"vote.{v.value}" for v in Vote)
    keys.update(f"intent.{i.value}" for i in Intent)
    keys.update(f"term_source.{s.value}" for s in TermSource)
    keys.update(f"term_status.{s.value}" for s in TermStatus)
    keys.update(f"category.{c.value}" for c in Category)
    keys.update(f"activity_status.{s.value}" for s in ActivityStatus)
    keys.update(f"signup_kind.{k.value}" for k in SignupKind)
    keys.update(f"signup_status.{s.value}" for s in SignupStatus)
    keys.update(f"repeat.{r.value}" for r in Repeat)
    keys.update(f"holiday.{h.name}" for h in chinese_calendar.Holiday)
    keys.update(f"round_status.{s.value}" for s in RoundStatus)
    keys.update(f"benefits.period_{v}" for v in ("year", "custom"))
    keys.update(f"benefits.col_{name}" for name in (*LEDGER_COLUMNS, *RECORD_COLUMNS, "unit"))
    keys.update(f"nominee_kind.{k.value}" for k in NomineeKind)
    keys.update(f"achievement_category.{c.value}" for c in AchievementCategory)
    keys.update(f"achievement_status.{s.value}" for s in AchievementStatus)
    keys.update(f"publicity_channel.{c.value}" for c in PublicityChannel)
    # the calendar's view names and navigation are built from the view's name
    keys.update(f"cal.view_{v}" for v in ("month", "week", "list"))
    keys.update(f"cal.{p}_{v}" for p in ("previous", "next") for v in ("month", "week"))
    keys.update(f"cal.mode_{m}" for m in ("all", "online", "offline"))
    keys.update(f"cal.wd_{d}" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    keys.update(f"cal.conflict_{r}" for r in ("organiser", "place"))
    # the overview's tiles, presets and charts are named by their keys
    keys.update(f"overview.kpi_{k}{h}" for k in OVERVIEW_KPIS for h in ("", "_help"))
    keys.update(f"overview.preset_{p}" for p in ("year", "12m", "all", "custom"))
    keys.update(f"overview.{p}_{c}" for p in ("empty", "file") for c in OVERVIEW_CHARTS)
    return keys


def test_the_scan_finds_the_keys_of_every_layer():
    keys = used_keys()
    assert "login.submit" in keys and "validation.phone_invalid" in keys and "page.users" in keys
    assert "field.credit_code" in keys and "todo.secretariat_unit_missing" in keys
    assert "action.user.login_failed" in keys and "action.user.deactivate" in keys and "record.council_term" in keys


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_key_used_in_the_code_is_in_the_catalog(lang):
    missing = sorted(used_keys() - set(catalog(lang)))
    assert missing == [], f"{lang} catalog lacks {missing}"


def test_both_catalogs_have_the_same_keys():
    assert set(catalog("zh-CN")) ^ set(catalog("en")) == set()


def test_placeholders_agree_between_languages():
    field = re.compile(r"\{(\w+)\}")
    for key, text in catalog("zh-CN").items():
        assert set(field.findall(text)) == set(field.findall(catalog("en")[key])), key


def test_chinese_is_the_default_language_outside_a_session():
    assert t("login.submit") == catalog("zh-CN")["login.submit"]
    assert t("login.submit", lang="en") == catalog("en")["login.submit"]


def test_dates_read_the_chinese_way_in_chinese():
    from datetime import date

    assert format_date(date(2026, 11, 28), lang="zh-CN") == "2026年11月28日"
    assert format_date(date(2026, 11, 28), lang="en") == "2026-11-28"
