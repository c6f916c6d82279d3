"""The demo seeder writes through the services, leaves audit entries, and never touches a real database."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from db.engine import make_engine
from db.migrate import upgrade_to_head
from db.models import Activity, AuditEntry, Organisation, User
from db.services import rollups
from db.services.access import write_scope
from db.services.settings import is_demo_database
from db.services.todos import collect_todos
from domain.activities import Category
from domain.clock import SHANGHAI
from domain.roles import Actor, Role
from scripts.seed_demo import DEMO_PASSWORD, database_state, seed
from tests.conftest import attempt_login as login
from tests.conftest import drop_pg_database, new_database_url


@pytest.fixture(scope="module")
def demo_engine(backend, tmp_path_factory):
    """A demo database seeded once per backend for the tests of this module (seeding takes a few seconds)."""
    url = new_database_url(backend, tmp_path_factory.mktemp(f"demo-{backend}"))
    engine = make_engine(url)
    upgrade_to_head(engine)
    seed(engine=engine)
    yield engine
    engine.dispose()
    if backend == "postgresql":
        drop_pg_database(url)


def test_the_demo_database_has_the_secretariat_units_applications_and_accounts(demo_engine):
    with demo_engine.connect() as conn:
        orgs = conn.execute(text_count("organisations")).scalar()
        secretariat = conn.execute(select(Organisation.name).where(Organisation.is_secretariat.is_(True))).scalar_one()
        provinces = conn.execute(select(func.count(func.distinct(Organisation.province)))).scalar()
        kinds = conn.execute(select(func.count(func.distinct(Organisation.kind)))).scalar()
        roles = dict(conn.execute(select(User.username, User.role)).all())
        council_unit = conn.execute(select(User.organisation_id).where(User.username == "demo_council")).scalar()
        audit_creates = conn.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.in_(["organisation.create", "user.create"]))
        ).scalar()
    with demo_engine.connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM applications GROUP BY status")).all())
        channels = dict(conn.execute(text("SELECT channel, count(*) FROM applications GROUP BY channel")).all())
        opinions = conn.execute(text_count("council_opinions")).scalar()
        admitted = conn.execute(text("SELECT count(*) FROM applications WHERE status = 'approved'")).scalar()
        created_units = conn.execute(
            text("SELECT count(*) FROM audit_entries WHERE action = 'organisation.create'")
        ).scalar()
    # 80 founding units plus the secretariat, and a few hundred in all once the approved applications joined.
    assert created_units == 81 and orgs == 81 + admitted and orgs >= 200 and secretariat == "生态环境部宣传教育中心"
    assert provinces >= 20 and kinds >= 6
    assert set(statuses) == {"submitted", "in_review", "needs_more", "approved", "rejected", "withdrawn"}
    assert set(channels) == {"self_applied", "invited", "recommended"} and opinions > 100
    assert {k: v for k, v in roles.items() if not k.startswith("demo_council_")} == {
        "demo_admin": "admin",
        "demo_secretariat": "secretariat",
        "demo_council": "council",
        "demo_viewer": "viewer",
    }
    assert {v for k, v in roles.items() if k.startswith("demo_council_")} == {"council"}
    assert council_unit is not None
    assert audit_creates == created_units + len(roles)
    with Session(demo_engine) as session:
        assert is_demo_database(session=session)
        assert database_state(session) == "demo"
        assert login(session, "demo_viewer", DEMO_PASSWORD)


def test_the_demo_calendar_holds_18_months_of_every_category_with_signups_waitlists_and_outcomes(demo_engine):
    now = datetime.now(UTC)
    with Session(demo_engine) as session:
        acts = session.execute(
            select(Activity, Organisation.province).outerjoin(Organisation, Organisation.id == Activity.organiser_id)
        ).all()
        secretariat = session.scalar(select(User.id).where(User.username == "demo_secretariat"))
        todos = collect_todos(
            session=session, actor=Actor(user_id=secretariat, username="demo_secretariat", role=Role.SECRETARIAT)
        )
    with demo_engine.connect() as conn:
        signups = conn.execute(text("SELECT activity_id, kind, status, people FROM signups")).all()
        # the service takes sign-ups only until an activity ends, so the past has outcomes and no sign-ups
        late = conn.execute(
            text(
                "SELECT count(*) FROM signups s JOIN activities a ON a.id = s.activity_id"
                " WHERE s.created_at >= a.ends_at"
            )
        ).scalar()
    activities = [a for a, _ in acts]
    by_id = {a.id: a for a in activities}
    months = {a.starts_at.astimezone(SHANGHAI).strftime("%Y-%m") for a in activities}
    assert {a.category for a in activities} == {c.value for c in Category}
    assert 200 <= len(activities) <= 320 and len(months) >= 18
    assert min(a.starts_at for a in activities) < now - timedelta(days=420)
    assert max(a.starts_at for a in activities) > now + timedelta(days=45)
    for a, organiser_province in acts:
        local = a.starts_at.astimezone(SHANGHAI)
        assert 8 <= local.hour < 18 and timedelta(hours=2) <= a.ends_at - a.starts_at <= timedelta(days=3)
        assert a.province in {organiser_province or "全国", "全国"}
        assert (a.online_link.startswith("https://") and not a.place) if a.online else (a.place and not a.online_link)
    assert any(a.organiser_id is None for a in activities) and any(a.organiser_id for a in activities)
    assert all(a.capacity for a in activities if a.category in ("training", "forum"))
    # Places in people: nobody confirmed beyond capacity, and upcoming trainings are full with a waitlist.
    confirmed, waiting = defaultdict(int), defaultdict(int)
    for activity_id, _, status, people in signups:
        confirmed[activity_id] += people if status == "confirmed" else 0
        waiting[activity_id] += status == "waitlisted"
    assert all(people <= by_id[i].capacity for i, people in confirmed.items() if by_id[i].capacity)
    full = [i for i, n in waiting.items() if n and by_id[i].starts_at > now]
    assert len(full) >= 2 and all(confirmed[i] <= by_id[i].capacity for i in full)
    assert late == 0 and any(status == "cancelled" for _, _, status, _ in signups)
    assert any(kind == "invitation" and status == "invited" for _, kind, status, _ in signups)
    # Outcomes on most finished activities, the hours within what the volunteers could give; a few still missing.
    finished = [a for a in activities if a.cancelled_at is None and a.ends_at <= now]
    with_outcome = [a for a in finished if a.outcome_at is not None]
    assert len(with_outcome) >= 0.75 * len(finished) and len(with_outcome) < len(finished)
    assert all(a.service_hours <= a.volunteers * (a.ends_at - a.starts_at).total_seconds() / 3600 for a in with_outcome)
    assert all(a.outcome_at is None for a in activities if a.starts_at > now)
    assert any(a.ends_at > now - timedelta(days=90) for a in finished if a.outcome_at is None)
    assert "todo.activities_missing_outcome" in {t.key for t in todos}
    series = defaultdict(list)
    for a in activities:
        if a.series_id:
            series[a.series_id].append(a.starts_at.astimezone(SHANGHAI))
    gaps = {b - a for starts in series.values() for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)}
    assert len(series) >= 2 and timedelta(weeks=1) in gaps and any(g >= timedelta(days=28) for g in gaps)
    cancelled = [a for a in activities if a.cancelled_at is not None]
    assert 2 <= len(cancelled) <= 3 and all(a.cancel_reason for a in cancelled)


def test_every_activity_and_signup_write_of_the_demo_has_its_audit_entry(demo_engine):
    with demo_engine.connect() as conn:
        audited = dict(
            conn.execute(
                text(
                    "SELECT action, count(*) FROM audit_entries"
                    " WHERE record_type IN ('activity', 'signup') GROUP BY action"
                )
            ).all()
        )
        activities, outcomes, cancelled, activity_edits = conn.execute(
            text(
                "SELECT count(*), count(outcome_at), count(cancelled_at), coalesce(sum(version - 1), 0) FROM activities"
            )
        ).one()
        signups, withdrawn, signup_edits = conn.execute(
            text(
                "SELECT count(*), sum(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END), coalesce(sum(version - 1), 0)"
                " FROM signups"
            )
        ).one()
        unaudited = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM activities a WHERE NOT EXISTS (SELECT 1 FROM audit_entries e"
                "   WHERE e.action = 'activity.create' AND e.record_id = CAST(a.id AS VARCHAR(20))))"
                " + (SELECT count(*) FROM signups s WHERE NOT EXISTS (SELECT 1 FROM audit_entries e"
                "   WHERE e.action = 'signup.create' AND e.record_id = CAST(s.id AS VARCHAR(20))))"
            )
        ).scalar()
    assert unaudited == 0
    assert audited["activity.create"] == activities and audited["signup.create"] == signups
    assert audited["activity.outcome"] == outcomes and audited["activity.cancel"] == cancelled
    assert activity_edits == outcomes + cancelled
    # every change of a sign-up after its creation is a withdrawal or a move up from the waitlist
    assert audited["signup.cancel"] == withdrawn >= 1 and audited["signup.promote"] >= 1
    assert signup_edits == audited["signup.cancel"] + audited["signup.promote"]
    assert set(audited) == {
        "activity.create",
        "activity.outcome",
        "activity.cancel",
        "signup.create",
        "signup.cancel",
        "signup.promote",
    }


def test_a_database_with_records_is_recognised_and_left_alone(session, admin):
    assert database_state(session) == "records"
    assert not is_demo_database(session=session)


def text_count(table: str):
    from sqlalchemy import text

    return text(f"SELECT count(*) FROM {table}")


def test_make_demo_refuses_a_database_with_real_records_and_writes_nothing(tmp_path, monkeypatch):
    from db.engine import get_engine, make_engine, transaction
    from db.services import users as user_services
    from domain.roles import ANONYMOUS
    from scripts import seed_demo

    url = f"sqlite:///{tmp_path / 'real.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with transaction(write=True, engine=engine) as session:
        token = user_services.issue_setup_token(session=session)
        user_services.create_first_admin(session=session, actor=ANONYMOUS, token=token, username="root",
                                         display_name="x", password="password 123",
                                         password_repeat="password 123")  # fmt: skip
    with engine.connect() as conn:
        before = conn.execute(text_count("audit_entries")).scalar()
    monkeypatch.setenv("DATABASE_URL", url)
    get_engine.cache_clear()
    try:
        assert seed_demo.main() == 1
    finally:
        get_engine.cache_clear()
    with engine.connect() as conn:
        assert conn.execute(text_count("organisations")).scalar() == 0
        assert conn.execute(text_count("audit_entries")).scalar() == before
    engine.dispose()


def test_the_demo_roll_ups_are_what_a_full_recount_gives(demo_engine):
    """The seeder writes through the services, which keep the overview's roll-ups: recounting changes nothing."""
    tables = ("activity_rollups", "application_rollups", "review_rollups", "member_rollups")

    def snapshot() -> dict[str, set[tuple]]:
        with Session(demo_engine) as session:
            return {name: {tuple(row) for row in session.execute(text(f"SELECT * FROM {name}"))} for name in tables}

    kept = snapshot()
    assert all(kept[name] for name in tables), "the demo fills every roll-up"
    with Session(demo_engine) as session, session.begin(), write_scope("test"):
        rollups.rebuild(session=session)
    assert snapshot() == kept


def test_the_demo_has_a_published_and_an_open_selection_round_and_achievements_in_every_state(demo_engine):
    from db.services import selections
    from domain.clock import today
    from domain.selections import RoundStatus

    staff = Actor(user_id=None, username="probe", role=Role.SECRETARIAT)
    with Session(demo_engine) as session:
        rounds = selections.list_rounds(session=session, actor=staff, today=today())
        by_status = {r.status: r for r in rounds}
        assert set(by_status) == {RoundStatus.PUBLISHED, RoundStatus.OPEN}
        published = by_status[RoundStatus.PUBLISHED]
        ranking = selections.ranking(session=session, actor=staff, round_id=published.id, today=today())
        places = {c.id: c.places for c in published.categories}
        winners = [r for r in ranking if r.winner]
        assert winners and all(r.scores > 0 for r in winners)
        for category_id, allowed in places.items():
            assert sum(1 for r in winners if r.category_id == category_id) <= allowed
        # units that nominated recused themselves, and their recusal is not a score
        assert sum(r.recusals for r in ranking) > 0
        assert by_status[RoundStatus.OPEN].nominations > 0
        counts = dict(session.execute(text("SELECT status, count(*) FROM achievements GROUP BY status")).all())
    assert set(counts) == {"pending", "published", "rejected"}
    with Session(demo_engine) as session:
        todos = {item.key for item in collect_todos(session=session, actor=staff)}
    assert "todo.achievements_pending" in todos
