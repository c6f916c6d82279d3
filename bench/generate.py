"""Benchmark data at a national scale (issue #10): 20,000 units, 200,000 activities over 5 years, 1,000,000
sign-up rows, applications with council opinions, a council session and its meetings — deterministic from a
seed, bulk-inserted (not through the services: minutes, not hours), then the overview's roll-ups are counted.

    python -m bench.generate --scale 0.1 --seed 2026      # DATABASE_URL or data/bench.sqlite

Every row obeys the database's constraints (they are checked as the rows go in); the demo seeder's vocabulary
gives the names."""

import argparse
import random
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from db.models import (
    Activity,
    Application,
    CouncilOpinion,
    Meeting,
    MeetingAttendance,
    Organisation,
    Signup,
)
from db.services import council, rollups, users
from db.services.access import write_scope
from domain.activities import Category, SignupKind, SignupStatus
from domain.applications import AppliedFor, AppStatus, Channel, Opinion
from domain.clock import SHANGHAI, today
from domain.council import SEATS, Attendance, MeetingKind, TermSource
from domain.organisations import PROVINCES, OrgKind, OrgStatus
from domain.roles import ANONYMOUS, Actor, Role

FULL = {"organisations": 20_000, "activities": 200_000, "signups": 1_000_000, "applications": 50_000}
YEARS = 5
CHUNK = 10_000
PLACES = ("会议中心", "文化馆", "社区服务中心", "湿地公园", "河湖管理站", "大学报告厅", "青少年活动中心")
TITLES = {
    Category.TRAINING: "生态环境志愿服务骨干培训",
    Category.SEMINAR: "志愿服务研讨交流会",
    Category.SHOWCASE: "生态文明宣传展示",
    Category.VOLUNTEERING: "河湖巡护志愿行动",
    Category.FORUM: "生态环境志愿服务论坛",
    Category.RESEARCH: "志愿服务调查研究",
    Category.BRAND: "品牌项目推进活动",
    Category.OTHER: "其他志愿活动",
}


@dataclass(frozen=True)
class Counts:
    """What was generated."""

    organisations: int
    activities: int
    signups: int
    applications: int
    opinions: int
    meetings: int
    seconds: float


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        session.execute(insert(model), chunk)


def _aware(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def generate(*, engine: Engine, scale: float = 1.0, seed: int = 2026) -> Counts:
    """Fill an empty, migrated database; returns the counts."""
    started = time.perf_counter()
    rng = random.Random(seed)
    sizes = {k: max(1, int(v * scale)) for k, v in FULL.items()}
    sizes["organisations"] = max(sizes["organisations"], SEATS + 10)
    now = datetime.now(UTC)
    first_day = today() - timedelta(days=365 * YEARS - 60)
    kinds = [k.value for k in OrgKind]
    provinces = list(PROVINCES)
    # nobody logs in to benchmark data: random passwords, printed nowhere
    password = secrets.token_urlsafe(16)
    with Session(engine) as session, session.begin(), write_scope("bench data generator"):
        # units: a member directory joined over the five years
        org_rows = [
            {
                "name": f"基准测试单位{n:06d}",
                "name_key": f"基准测试单位{n:06d}",
                "sort_key": f"ji zhun {n:06d}",
                "kind": kinds[n % len(kinds)],
                "province": provinces[n % len(provinces)],
                # the first units hold the council's seats: members
                "status": OrgStatus.MEMBER.value if n < SEATS or rng.random() < 0.95 else OrgStatus.EXITED.value,
                "joined_on": first_day + timedelta(days=rng.randrange(365 * YEARS - 60)),
                "admitted_channel": rng.choice([None, *[c.value for c in Channel]]),
            }
            for n in range(sizes["organisations"])
        ]
        _bulk(session, Organisation, org_rows)
        org_ids = list(session.scalars(select(Organisation.id).order_by(Organisation.id)))

        # the council: one session of ten seats, each unit with a council user
        admin_id = users.create_first_admin(
            session=session,
            actor=ANONYMOUS,
            token=users.issue_setup_token(session=session),
            username="bench_admin",
            display_name="基准测试管理员",
            password=password,
            password_repeat=password,
        )
        admin = Actor(user_id=admin_id, username="bench_admin", role=Role.ADMIN)
        session_id = council.create_session(session=session, actor=admin, starts_on=today() - timedelta(days=400))
        seated = org_ids[:SEATS]
        council_users = []
        for seat, unit in enumerate(seated, start=1):
            council.seat_term(
                session=session,
                actor=admin,
                session_id=session_id,
                seat=seat,
                organisation_id=unit,
                source=TermSource.INVITED.value,
            )
            council_users.append(
                users.create_user(
                    session=session,
                    actor=admin,
                    username=f"bench_council_{seat:02d}",
                    display_name=f"理事{seat}",
                    password=password,
                    role=Role.COUNCIL,
                    organisation_id=unit,
                    temporary_password=False,
                )
            )

        # activities over five years, with outcomes once over
        categories = [c for c in Category]
        activity_rows = []
        for n in range(sizes["activities"]):
            category = categories[n % len(categories)]
            day = first_day + timedelta(days=rng.randrange(365 * YEARS))
            starts = _aware(day, rng.choice((9, 10, 14, 19)))
            ends = starts + timedelta(hours=rng.choice((2, 3, 4, 8, 26)))
            place = f"{provinces[n % len(provinces)]}{rng.choice(PLACES)}"
            over = ends <= now
            volunteers = rng.randint(5, 200) if over and rng.random() < 0.85 else None
            span = (ends - starts).total_seconds() / 3600
            activity_rows.append(
                {
                    "title": f"{TITLES[category]}（第{n}期）",
                    "title_key": f"{TITLES[category]}（第{n}期）",
                    "category": category.value,
                    "organiser_id": None if rng.random() < 0.2 else rng.choice(org_ids),
                    "starts_at": starts,
                    "ends_at": ends,
                    "place": place,
                    "place_key": place,
                    "province": provinces[n % len(provinces)],
                    "capacity": 50 if category in (Category.TRAINING, Category.FORUM) else None,
                    "volunteers": volunteers,
                    "service_hours": round(volunteers * span * rng.uniform(0.3, 1.0), 1) if volunteers else None,
                    "outcome_at": ends if volunteers else None,
                }
            )
        _bulk(session, Activity, activity_rows)
        activity_ids = list(session.scalars(select(Activity.id).order_by(Activity.id)))

        # sign-ups: distinct units per activity, most confirmed
        per_activity = max(1, sizes["signups"] // len(activity_ids))
        signup_rows: list[dict[str, Any]] = []
        for activity_id in activity_ids:
            for unit in rng.sample(org_ids, min(per_activity, len(org_ids))):
                invited = rng.random() < 0.05
                signup_rows.append(
                    {
                        "activity_id": activity_id,
                        "organisation_id": unit,
                        "kind": SignupKind.INVITATION.value if invited else SignupKind.SIGNUP.value,
                        "status": (
                            SignupStatus.INVITED.value
                            if invited
                            else rng.choice([SignupStatus.CONFIRMED.value] * 9 + [SignupStatus.WAITLISTED.value])
                        ),
                        "people": rng.randint(1, 5),
                    }
                )
            if len(signup_rows) >= CHUNK * 5:
                _bulk(session, Signup, signup_rows)
                signup_rows = []
        _bulk(session, Signup, signup_rows)

        # applications over the five years; the decided ones name a unit
        statuses = [s.value for s in AppStatus]
        app_rows = []
        for n in range(sizes["applications"]):
            status = rng.choice(statuses)
            submitted = _aware(first_day + timedelta(days=rng.randrange(365 * YEARS - 30)), 10)
            decided = status in (AppStatus.APPROVED.value, AppStatus.REJECTED.value, AppStatus.WITHDRAWN.value)
            channel = rng.choice([c.value for c in Channel])
            app_rows.append(
                {
                    "reference": f"BENCH-{n:08d}",
                    "applied_for": AppliedFor.MEMBER.value,
                    "channel": channel,
                    "recommender_id": rng.choice(org_ids) if channel == Channel.RECOMMENDED.value else None,
                    "name": f"基准测试申请单位{n:06d}",
                    "name_key": f"基准测试申请单位{n:06d}",
                    "kind": kinds[n % len(kinds)],
                    "province": provinces[n % len(provinces)],
                    "consent_at": submitted,
                    "status": status,
                    "decided_at": submitted + timedelta(days=rng.randint(1, 120)) if decided else None,
                    "organisation_id": rng.choice(org_ids) if status == AppStatus.APPROVED.value else None,
                    "submitted_at": submitted,
                }
            )
        _bulk(session, Application, app_rows)
        app_ids = list(session.scalars(select(Application.id).order_by(Application.id)))
        opinion_rows = [
            {
                "application_id": app_id,
                "organisation_id": seated[i],
                "user_id": council_users[i],
                "opinion": rng.choice([o.value for o in Opinion]),
            }
            for app_id in app_ids
            if rng.random() < 0.3
            for i in rng.sample(range(SEATS), 3)
        ]
        _bulk(session, CouncilOpinion, opinion_rows)

        # a council meeting a month over the session, with attendance
        meetings = 0
        day = today() - timedelta(days=390)
        while day < today():
            meeting_id = session.execute(
                insert(Meeting)
                .values(
                    kind=MeetingKind.COUNCIL.value,
                    title=f"理事会工作会议（{day:%Y年%m月}）",
                    starts_at=_aware(day, 14),
                    place="北京",
                )
                .returning(Meeting.id)
            ).scalar_one()
            _bulk(
                session,
                MeetingAttendance,
                [
                    {
                        "meeting_id": meeting_id,
                        "organisation_id": unit,
                        "status": rng.choice([Attendance.PRESENT.value] * 4 + [Attendance.LEAVE.value]),
                    }
                    for unit in seated
                ],
            )
            meetings += 1
            day += timedelta(days=30)
        rollups.rebuild(session=session)
        counts = Counts(
            organisations=len(org_ids),
            activities=len(activity_ids),
            signups=int(session.scalar(select(func.count(Signup.id))) or 0),
            applications=len(app_ids),
            opinions=len(opinion_rows),
            meetings=meetings,
            seconds=0.0,
        )
    return Counts(**{**counts.__dict__, "seconds": round(time.perf_counter() - started, 1)})


def main(argv: list[str] | None = None) -> int:
    """Generate into DATABASE_URL (default data/bench.sqlite), migrated first; refuses a database with units."""
    import os

    from db.engine import make_engine
    from db.migrate import upgrade_to_head

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "sqlite:///data/bench.sqlite")
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        if session.scalar(select(func.count(Organisation.id))):
            print("refused: the database already holds units (use an empty one)", file=sys.stderr)
            return 2
    print(generate(engine=engine, scale=args.scale, seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
