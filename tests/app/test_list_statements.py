"""The application list and the member directory run a fixed number of SQL statements per rerun, whatever the
data size (paged and counted in SQL, opinions tallied for the shown page only: no query per row)."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from db.engine import get_engine
from db.models import Application, CouncilOpinion, Organisation
from db.services import data_version
from db.services.access import write_scope
from tests.app.databases import app_database
from ui.auth import ROUTED_FLAG, USER_KEY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ["pages/applications.py", "pages/members.py"]


def _grow(engine, start: int, count: int) -> None:  # type: ignore[no-untyped-def]
    """Add `count` units and two applications per unit (with opinions) straight through the engine."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    kinds = ["social", "volunteer_team", "academic", "enterprise"]
    orgs = [
        {
            "name": f"测试单位{i:06d}",
            "name_key": f"测试单位{i:06d}",
            "sort_key": f"ce4 shi4 {i:06d}",
            "kind": kinds[i % 4],
            "province": "浙江" if i % 2 else "四川",
            "status": "member",
        }
        for i in range(start, start + count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Organisation), orgs)
        apps = [
            {
                "reference": f"SQ2026-T{i:07d}{n}",
                "applied_for": "member",
                "channel": "self_applied",
                "name": f"申请单位{i:06d}{n}",
                "name_key": f"申请单位{i:06d}{n}",
                "kind": kinds[i % 4],
                "province": "浙江",
                "consent_at": now,
                "status": "rejected",
                "submitted_at": now - timedelta(minutes=i * 2 + n),
            }
            for i in range(start, start + count)
            for n in range(2)
        ]
        conn.execute(insert(Application), apps)
        first_org = conn.execute(Organisation.__table__.select().limit(1)).first()
        ids = [
            r.id for r in conn.execute(Application.__table__.select().where(Application.reference.like("SQ2026-T%")))
        ]
        conn.execute(
            insert(CouncilOpinion),
            [
                {"application_id": i, "organisation_id": first_org.id, "user_id": 1, "opinion": "agree"}
                for i in ids[-200:]
            ],
        )
        # Written behind the services' back: raise the data-version stamp as every service write does.
        with Session(bind=conn) as session, write_scope("test: bulk data"):
            for topic in ("organisation", "application"):
                data_version.bump(session=session, topic=topic)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    with app_database(tmp_path_factory.mktemp("statements")) as admin:
        yield admin


def _statements(file: str, user) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """SQL statements of the page's first run after a write (cache miss) and of a rerun (cache hit)."""
    engine = get_engine()
    at = AppTest.from_file(os.path.join(ROOT, file), default_timeout=60)
    at.session_state[ROUTED_FLAG] = True
    at.session_state[USER_KEY] = user
    counts = []
    for _ in range(2):
        seen: list[str] = []

        def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)  # noqa: B023 (each run has its own list)

        event.listen(engine, "before_cursor_execute", count)
        try:
            at.run()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert not at.exception, [e.message for e in at.exception]
        counts.append(len(seen))
    return counts[0], counts[1]


def test_the_list_and_the_directory_send_as_many_statements_for_ten_times_the_data(database):
    engine = get_engine()
    _grow(engine, 0, 150)
    small = {page: _statements(page, database) for page in PAGES}
    _grow(engine, 150, 1350)
    large = {page: _statements(page, database) for page in PAGES}
    assert large == small
    assert all(miss <= 25 and hit < miss for miss, hit in large.values()), large
