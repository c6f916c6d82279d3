"""The overview sends as many SQL statements for ten times the units, applications, activities and sign-ups (its
figures are aggregates over the roll-ups, no query per row), and a warm rerun reads only the data-version stamps."""

import os
from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.engine import get_engine, transaction
from db.models import Activity, Application, Organisation, Signup
from db.services import data_version, rollups, users
from db.services.access import write_scope
from domain.clock import today
from domain.roles import Role
from tests.app.databases import app_database
from ui.auth import ROUTED_FLAG, USER_KEY
from ui.i18n import t

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGE = "pages/overview.py"
N = 80
KINDS = ("government", "academic", "social", "volunteer_team", "enterprise", "mass", "other")
PROVINCES = ("北京", "上海", "浙江", "广东", "四川", "全国")
CATEGORIES = ("training", "seminar", "showcase", "volunteering", "forum", "research", "brand", "other")
STATUSES = ("submitted", "in_review", "needs_more", "approved", "rejected", "withdrawn")
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
# What the page is run with: (role, session state set before the first run).
SETUPS = {
    "admin, last 12 months": (Role.ADMIN, {}),
    "viewer, last 12 months": (Role.VIEWER, {}),
    "admin, all, one province and kind": (Role.ADMIN, {"ov_preset": "all", "ov_province": "浙江", "ov_kind": "social"}),
    "secretariat, this year, one category": (Role.SECRETARIAT, {"ov_preset": "year", "ov_category": "training"}),
}


def _grow(start: int, count: int) -> None:
    """`count` units (joined over the last two years), applications, activities with outcomes (every 13th
    cancelled) and confirmed sign-ups, inserted in bulk; then the roll-ups rebuilt and the stamps raised."""
    now = datetime.now(UTC).replace(microsecond=0)
    on = today()
    units = [
        {
            "name": f"统计测试单位{i:06d}",
            "name_key": f"统计测试单位{i:06d}",
            "kind": KINDS[i % len(KINDS)],
            "province": PROVINCES[i % len(PROVINCES)],
            "status": "exited" if i % 17 == 0 else "member",
            "joined_on": None if i % 10 == 0 else on - timedelta(days=(i * 11) % 720),
        }
        for i in range(start, start + count)
    ]
    with write_scope("test: bulk overview data"), get_engine().begin() as conn:
        conn.execute(insert(Organisation), units)
        ids = conn.scalars(
            select(Organisation.id).where(Organisation.name.in_([u["name"] for u in units])).order_by(Organisation.id)
        ).all()
        applied = []
        for n, i in enumerate(range(start, start + count)):
            submitted = now - timedelta(days=(i * 5) % 700 + 40, hours=i % 24)
            status = STATUSES[i % len(STATUSES)]
            decided = status in ("approved", "rejected", "withdrawn")
            applied.append(
                {
                    "reference": f"ST{i:08d}",
                    "applied_for": "member",
                    "channel": ("self_applied", "invited")[i % 2],
                    "name": f"统计测试申请{i:06d}",
                    "name_key": f"统计测试申请{i:06d}",
                    "kind": KINDS[i % len(KINDS)],
                    "province": PROVINCES[i % len(PROVINCES)],
                    "consent_at": submitted,
                    "status": status,
                    "submitted_at": submitted,
                    "decided_at": submitted + timedelta(days=i % 45, hours=3) if decided else None,
                    "organisation_id": ids[n] if status == "approved" else None,
                }
            )
        conn.execute(insert(Application), applied)
        held = []
        for n, i in enumerate(range(start, start + count)):
            starts = now - timedelta(days=(i * 7) % 700 + 1, hours=i % 12)
            cancelled = i % 13 == 0
            held.append(
                {
                    "title": f"统计测试活动{i:06d}",
                    "title_key": f"统计测试活动{i:06d}",
                    "category": CATEGORIES[i % len(CATEGORIES)],
                    "organiser_id": None if i % 5 == 0 else ids[n],
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=3),
                    "place": f"测试地点{i}",
                    "place_key": f"测试地点{i}",
                    "province": PROVINCES[i % len(PROVINCES)],
                    "cancelled_at": starts - timedelta(days=1) if cancelled else None,
                    "cancel_reason": "测试取消" if cancelled else None,
                    "volunteers": None if cancelled else 3 + i % 20,
                    "service_hours": None if cancelled else float(3 + i % 20) * 2.5,
                    "outcome_at": None if cancelled else starts + timedelta(days=1),
                }
            )
        conn.execute(insert(Activity), held)
        activity_ids = conn.scalars(
            select(Activity.id).where(Activity.title.in_([a["title"] for a in held])).order_by(Activity.id)
        ).all()
        conn.execute(
            insert(Signup),
            [
                {"activity_id": a, "organisation_id": u, "kind": "signup", "status": "confirmed", "people": 1 + n % 9}
                for n, (a, u) in enumerate(zip(activity_ids, ids, strict=True))
            ],
        )
        with Session(bind=conn) as session:
            rollups.rebuild(session=session)
            for topic in ("organisation", "application", "activity", "signup"):
                data_version.bump(session=session, topic=topic)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    accounts = {}
    with app_database(tmp_path_factory.mktemp("overview_statements")) as admin:
        with transaction(write=True) as session:
            for role in (Role.SECRETARIAT, Role.VIEWER):
                users.create_user(session=session, actor=admin.actor(), username=f"{role.value}1",
                                  display_name=role.value, password="password 123", role=role)  # fmt: skip
                accounts[role] = users.get_active_user(session=session, username=f"{role.value}1")
        accounts[Role.ADMIN] = admin
        yield accounts


def _run_counted(at: AppTest) -> list[str]:
    """The SQL statements of one run, transaction control left out."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        at.run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.title] == [t("page.overview")]
    assert not at.error, [e.value for e in at.error]
    return [s for s in seen if not s.lstrip().upper().startswith(CONTROL)]


def _is_stamp_read(statement: str) -> bool:
    flat = " ".join(statement.split()).lower()
    return flat.startswith("select") and "from data_versions" in flat and " join " not in flat


def _statements(user, state: dict) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    """Statements of a run on an emptied cache, and those of the rerun after it."""
    st.cache_data.clear()
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=60)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = user
    for key, value in state.items():
        at.session_state[key] = value
    cold = _run_counted(at)
    warm = _run_counted(at)
    return len(cold), warm


def test_the_overview_sends_as_many_statements_for_ten_times_the_data(database):
    _grow(0, N)
    small = {name: _statements(database[role], state) for name, (role, state) in SETUPS.items()}
    _grow(N, 9 * N)
    with transaction() as session:
        assert session.scalar(select(Activity.id).order_by(Activity.id.desc()).limit(1)) >= 10 * N
    large = {name: _statements(database[role], state) for name, (role, state) in SETUPS.items()}
    assert {k: v[0] for k, v in large.items()} == {k: v[0] for k, v in small.items()}
    for name, (cold, warm) in large.items():
        assert cold <= 45, (name, cold)
        assert warm and all(_is_stamp_read(s) for s in warm), (name, warm)
        assert len(warm) < cold, (name, len(warm), cold)
    assert len(large["viewer, last 12 months"][1]) < len(large["admin, last 12 months"][1]), (
        "the viewer's page reads no application figures"
    )


def test_a_warm_rerun_reads_only_the_stamps_until_a_write_raises_them(database):
    with get_engine().connect() as conn:
        if not conn.scalar(select(Activity.id).limit(1)):
            _grow(0, N)
    st.cache_data.clear()
    at = AppTest.from_file(os.path.join(ROOT, PAGE), default_timeout=60)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = database[Role.ADMIN]
    cold = _run_counted(at)
    activities = t("overview.kpi_activities")
    before = int(next(m.value for m in at.metric if m.label == activities).replace(",", ""))
    warm = _run_counted(at)
    assert warm and all(_is_stamp_read(s) for s in warm) and len(warm) < len(cold)
    # one more of everything, written in bulk with its roll-ups and stamps: its activity began yesterday
    _grow(10 * N + 1000, 1)
    fresh = _run_counted(at)
    assert len(fresh) > len(warm), "the figures are read again after a write"
    assert next(m.value for m in at.metric if m.label == activities) == f"{before + 1:,}"
    assert all(_is_stamp_read(s) for s in _run_counted(at)), "and cached again"
