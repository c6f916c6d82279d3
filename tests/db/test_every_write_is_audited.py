"""Every registered write service leaves an audit entry and raises the data-version stamp."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, CouncilTerm, User
from db.services import (
    achievements,
    activities,
    applications,
    council,
    data_version,
    meetings,
    organisations,
    selections,
    settings,
    users,
)
from db.services.access import WRITE_SERVICES
from db.services.applications import ImportRow
from db.services.council import PlannedSeat
from db.services.meetings import MeetingInput
from db.services.organisations import MemberImportRow
from domain.activities import Outcome
from domain.applications import ApplicationInput
from domain.auth_policy import LoginPolicy
from domain.clock import SHANGHAI, today
from domain.roles import ANONYMOUS, Actor, Role
from domain.selections import AchievementInput, CategoryInput, NominationInput, RoundInput
from tests.conftest import TODAY, org_input

NOW = datetime.now(UTC)
# Session bookkeeping, not record changes: the login reservation (its entry comes from finish_login), the
# once-a-minute activity note, and the public form's rate-limit reservation (a hashed client and a time, purged
# after a day; the submission it precedes is audited by submit_application).
NOT_AUDITED = {
    "db.services.users.begin_login",
    "db.services.users.touch_activity",
    "db.services.applications.reserve_intake_attempt",
}


def _org(s, admin, name="某大学绿色志愿服务队"):
    return organisations.create_organisation(
        session=s, actor=admin, today=TODAY, data=org_input(name, kind="volunteer_team", credit_code="")
    )


def _term(s, admin):
    session_id = council.create_session(session=s, actor=admin, starts_on=TODAY - timedelta(days=10))
    return council.seat_term(session=s, actor=admin, session_id=session_id, seat=1, organisation_id=_org(s, admin),
                             source="invited")  # fmt: skip


def _meeting(s, a):
    """A council meeting on TODAY, while the term of _term (if any) is running."""
    starts_at = datetime.combine(TODAY, time(10), tzinfo=SHANGHAI)
    data = MeetingInput(kind="council", title="理事会会议", starts_at=starts_at, place="北京", agenda=("审议工作报告",))
    return meetings.create_meeting(session=s, actor=a, data=data)


def _activity(s, a, *, days: int = 3):
    """A training with a capacity of one, `days` days from the real today (negative: already over): sign-ups
    and outcomes are judged against the clock, not the fixed TODAY of the other records."""
    starts_at = datetime.combine(today() + timedelta(days=days), time(9), tzinfo=SHANGHAI)
    ends_at = starts_at + timedelta(hours=3)
    data = activities.ActivityInput(
        title="骨干培训",
        category="training",
        starts_at=starts_at,
        ends_at=ends_at,
        province="北京",
        place="北京",
        capacity=1,
    )
    return activities.create_activity(session=s, actor=a, data=data)[0]


def _version(s, user_id):
    return s.scalar(select(User.version).where(User.id == user_id))


def _application(name="杭州市环保志愿者协会", credit_code="91110000802100433B"):
    return ApplicationInput(organisation=org_input(name, credit_code=credit_code), consent=True)


def _create_application(s, a, name="杭州市环保志愿者协会"):
    return applications.create_application(
        session=s, actor=a, data=_application(name), channel="invited", recommender_id=None, now=NOW
    )[0]


def _round_input(name="2026年度先进典型推选"):
    """A round whose call closes ten days after TODAY, with one category for organisations."""
    return RoundInput(name=name, year=2026, nomination_deadline=TODAY + timedelta(days=10),
                      review_deadline=TODAY + timedelta(days=20),
                      categories=(CategoryInput("优秀组织", "organisation", 2),))  # fmt: skip


def _round(s, a):
    """A new round and its category's id."""
    round_id = selections.create_round(session=s, actor=a, data=_round_input(), today=TODAY)
    return round_id, selections.get_round(session=s, actor=a, round_id=round_id, today=TODAY).categories[0].id


def _nomination(s, a):
    """A round with one nomination of a member unit: (round id, category id, nomination id, unit)."""
    round_id, category_id = _round(s, a)
    unit = _org(s, a, "推荐单位")
    data = NominationInput(category_id, unit, "河小青志愿队", "多年坚持河道巡护")
    return round_id, category_id, selections.add_nomination(session=s, actor=a, round_id=round_id, data=data,
                                                            today=TODAY), unit  # fmt: skip


def _achievement_input(unit, title="长江大保护志愿行动"):
    return AchievementInput(unit, title, "三年累计服务两万小时", TODAY, "brand_project")


CASES = {
    "db.services.organisations.create_organisation": lambda s, a, v: _org(s, a, "新单位"),
    "db.services.organisations.update_organisation": None,  # set up below (needs a record first)
    "db.services.settings.set_setting": lambda s, a, v: settings.set_setting(
        session=s, actor=a, key="intake_open", value=True, expected_version=0
    ),
    "db.services.council.create_session": lambda s, a, v: council.create_session(session=s, actor=a, starts_on=TODAY),
    "db.services.council.seat_term": None,
    "db.services.council.end_term_early": None,
    "db.services.council.fill_by_election": None,
    "db.services.council.change_representative": None,
    "db.services.council.set_continue_intent": None,
    "db.services.council.rotate": None,
    "db.services.meetings.create_meeting": lambda s, a, v: _meeting(s, a),
    "db.services.meetings.update_meeting": None,
    "db.services.meetings.record_attendance": None,
    "db.services.meetings.record_decision": None,
    "db.services.activities.create_activity": lambda s, a, v: _activity(s, a),
    "db.services.activities.update_activity": None,
    "db.services.activities.cancel_activity": None,
    "db.services.activities.record_outcome": None,
    "db.services.activities.add_signup": None,
    "db.services.activities.cancel_signup": None,
    "db.services.users.create_user": lambda s, a, v: users.create_user(
        session=s, actor=a, username="newbie", display_name="x", password="password 123", role=Role.VIEWER
    ),
    "db.services.users.update_user": lambda s, a, v: users.update_user(
        session=s, actor=a, user_id=v.user_id, expected_version=_version(s, v.user_id), display_name="改名",
        role=Role.VIEWER, organisation_id=None,
    ),
    "db.services.users.set_active": lambda s, a, v: users.set_active(
        session=s, actor=a, user_id=v.user_id, expected_version=_version(s, v.user_id), active=False
    ),
    "db.services.users.unlock_user": lambda s, a, v: users.unlock_user(session=s, actor=a, user_id=v.user_id),
    "db.services.users.reset_password": lambda s, a, v: users.reset_password(
        session=s, actor=a, user_id=v.user_id, expected_version=_version(s, v.user_id), new_password="temporary 1"
    ),
    "db.services.users.change_own_password": lambda s, a, v: users.change_own_password(
        session=s, actor=v, current="password 123", new="another pass 1", repeat="another pass 1", now=NOW
    ),
    "db.services.users.count_wrong_current_password": lambda s, a, v: users.count_wrong_current_password(
        session=s, actor=v, policy=LoginPolicy(), now=NOW
    ),
    "db.services.users.logout": lambda s, a, v: users.logout(session=s, actor=v, now=NOW),
    "db.services.users.create_first_admin": None,
    "db.services.users.finish_login": lambda s, a, v: users.finish_login(
        session=s, actor=ANONYMOUS, matched=False, now=NOW,
        ticket=users.begin_login(session=s, actor=ANONYMOUS, username=v.username, policy=LoginPolicy(), now=NOW),
    ),
    "db.services.organisations.set_organisation_status": None,
    "db.services.organisations.import_organisations": lambda s, a, v: organisations.import_organisations(
        session=s, actor=a, today=TODAY,
        rows=[MemberImportRow("2", "导入单位", org_input("导入单位", kind="volunteer_team", credit_code=""), None)],
    ),
    "db.services.applications.submit_application": None,
    "db.services.applications.create_application": lambda s, a, v: _create_application(s, a),
    "db.services.applications.import_applications": lambda s, a, v: applications.import_applications(
        session=s, actor=a, now=NOW,
        rows=[ImportRow("2", "导入申请单位", "invited", None, _application("导入申请单位"), None)],
    ),
    "db.services.applications.change_status": None,
    "db.services.applications.give_opinion": None,
    "db.services.selections.create_round": lambda s, a, v: selections.create_round(
        session=s, actor=a, data=_round_input("新一轮推选"), today=TODAY
    ),
    "db.services.selections.update_round": None,
    "db.services.selections.end_call": None,
    "db.services.selections.add_nomination": None,
    "db.services.selections.update_nomination": None,
    "db.services.selections.withdraw_nomination": None,
    "db.services.selections.publish_round": None,
    "db.services.selections.score_nomination": None,
    "db.services.achievements.create_achievement": lambda s, a, v: achievements.create_achievement(
        session=s, actor=a, data=_achievement_input(_org(s, a, "成果单位")), today=TODAY
    ),
    "db.services.achievements.update_achievement": None,
    "db.services.achievements.decide_achievement": None,
}  # fmt: skip


def _prepared(name, s, a):
    if name == "db.services.organisations.update_organisation":
        org_id = _org(s, a)
        return lambda s, a, v: organisations.update_organisation(
            session=s, actor=a, organisation_id=org_id, expected_version=1, today=TODAY,
            data=org_input("某大学绿色志愿服务队", kind="volunteer_team", credit_code="", city="宁波"),
        )  # fmt: skip
    if name == "db.services.council.seat_term":
        session_id = council.create_session(session=s, actor=a, starts_on=TODAY - timedelta(days=10))
        org_id = _org(s, a)
        return lambda s, a, v: council.seat_term(
            session=s, actor=a, session_id=session_id, seat=2, organisation_id=org_id, source="invited"
        )
    if name == "db.services.council.end_term_early":
        term_id = _term(s, a)
        return lambda s, a, v: council.end_term_early(
            session=s, actor=a, term_id=term_id, expected_version=1, ends_on=TODAY, reason="辞任"
        )
    if name == "db.services.council.fill_by_election":
        term_id = _term(s, a)
        council.end_term_early(session=s, actor=a, term_id=term_id, expected_version=1, ends_on=TODAY, reason="辞任")
        org_id = _org(s, a, "补选单位")
        return lambda s, a, v: council.fill_by_election(
            session=s, actor=a, vacated_term_id=term_id, organisation_id=org_id, representative="", starts_on=TODAY
        )
    if name == "db.services.council.change_representative":
        term_id = _term(s, a)
        return lambda s, a, v: council.change_representative(
            session=s, actor=a, term_id=term_id, expected_version=1, representative="新代表"
        )
    if name == "db.services.council.set_continue_intent":
        term_id = _term(s, a)
        return lambda s, a, v: council.set_continue_intent(
            session=s, actor=a, term_id=term_id, expected_version=1, intent="continue"
        )
    if name == "db.services.council.rotate":
        council.create_session(session=s, actor=a, starts_on=TODAY - timedelta(days=10))
        plan = [PlannedSeat(seat=n, organisation_id=_org(s, a, f"换届单位{n}"), source="invited") for n in range(1, 11)]
        return lambda s, a, v: council.rotate(session=s, actor=a, plan=plan)
    if name == "db.services.meetings.update_meeting":
        meeting_id = _meeting(s, a)
        data = MeetingInput(kind="council", title="理事会会议（改期）", place="杭州",
                            starts_at=datetime.combine(TODAY, time(14), tzinfo=SHANGHAI))  # fmt: skip
        return lambda s, a, v: meetings.update_meeting(
            session=s, actor=a, meeting_id=meeting_id, expected_version=1, data=data
        )
    if name in ("db.services.meetings.record_attendance", "db.services.meetings.record_decision"):
        unit = s.scalar(select(CouncilTerm.organisation_id).where(CouncilTerm.id == _term(s, a)))
        meeting_id = _meeting(s, a)
        if name == "db.services.meetings.record_attendance":
            return lambda s, a, v: meetings.record_attendance(
                session=s, actor=a, meeting_id=meeting_id, expected_version=1, entries={unit: ("present", "")}
            )
        meetings.record_attendance(session=s, actor=a, meeting_id=meeting_id, expected_version=1,
                                   entries={unit: ("present", "")})  # fmt: skip
        return lambda s, a, v: meetings.record_decision(
            session=s, actor=a, meeting_id=meeting_id, expected_version=2, title="决议", text="", votes={unit: "agree"}
        )
    if name.startswith("db.services.activities.") and name != "db.services.activities.create_activity":
        past = name == "db.services.activities.record_outcome"
        activity_id = _activity(s, a, days=-3 if past else 3)
        if name == "db.services.activities.update_activity":
            data = activities.get_activity(session=s, actor=a, activity_id=activity_id).as_input()
            return lambda s, a, v: activities.update_activity(
                session=s, actor=a, activity_id=activity_id, expected_version=1, data=replace(data, capacity=2)
            )
        if name == "db.services.activities.cancel_activity":
            return lambda s, a, v: activities.cancel_activity(
                session=s, actor=a, activity_id=activity_id, expected_version=1, reason="场地不可用"
            )
        if name == "db.services.activities.record_outcome":
            outcome = Outcome(volunteers=10, service_hours=Decimal("25.5"))
            return lambda s, a, v: activities.record_outcome(
                session=s, actor=a, activity_id=activity_id, expected_version=1, outcome=outcome
            )
        first, second = _org(s, a, "报名单位甲"), _org(s, a, "报名单位乙")
        if name == "db.services.activities.add_signup":
            return lambda s, a, v: activities.add_signup(
                session=s, actor=a, activity_id=activity_id, organisation_id=first, people=1
            )
        held = activities.add_signup(session=s, actor=a, activity_id=activity_id, organisation_id=first, people=1)
        activities.add_signup(session=s, actor=a, activity_id=activity_id, organisation_id=second, people=1)
        return lambda s, a, v: activities.cancel_signup(session=s, actor=a, signup_id=held.id, expected_version=1)
    if name == "db.services.organisations.set_organisation_status":
        org_id = _org(s, a)
        return lambda s, a, v: organisations.set_organisation_status(
            session=s, actor=a, organisation_id=org_id, expected_version=1, status="suspended", reason="暂停活动"
        )
    if name == "db.services.applications.submit_application":
        # Opening intake is itself audited: done here, before the entries are counted.
        settings.set_setting(session=s, actor=a, key="intake_open", value=True, expected_version=0)
        return lambda s, a, v: applications.submit_application(session=s, actor=ANONYMOUS, data=_application(), now=NOW)
    if name == "db.services.applications.change_status":
        app_id = _create_application(s, a)
        return lambda s, a, v: applications.change_status(
            session=s, actor=a, application_id=app_id, expected_version=1, to_status="in_review", note="", now=NOW
        )
    if name == "db.services.applications.give_opinion":
        app_id = _create_application(s, a)
        term_id = _term(s, a)
        unit = s.scalar(select(CouncilTerm.organisation_id).where(CouncilTerm.id == term_id))
        user_id = users.create_user(session=s, actor=a, username="lishi", display_name="理事", password="password 123",
                                    role=Role.COUNCIL, organisation_id=unit)  # fmt: skip
        lishi = Actor(user_id=user_id, username="lishi", role=Role.COUNCIL, organisation_id=unit)
        return lambda s, a, v: applications.give_opinion(
            session=s, actor=lishi, application_id=app_id, opinion="agree", comment="", expected_version=0, today=TODAY
        )
    if name in ("db.services.selections.update_round", "db.services.selections.end_call"):
        round_id, category_id = _round(s, a)
        if name == "db.services.selections.end_call":
            return lambda s, a, v: selections.end_call(
                session=s, actor=a, round_id=round_id, expected_version=1, today=TODAY
            )
        data = replace(_round_input("2026年度推选（修订）"),
                       categories=(CategoryInput("优秀组织", "organisation", 3, category_id),))  # fmt: skip
        return lambda s, a, v: selections.update_round(
            session=s, actor=a, round_id=round_id, data=data, expected_version=1, today=TODAY
        )
    if name == "db.services.selections.add_nomination":
        round_id, category_id = _round(s, a)
        unit = _org(s, a, "推荐单位")
        data = NominationInput(category_id, unit, "河小青志愿队", "多年坚持河道巡护")
        return lambda s, a, v: selections.add_nomination(session=s, actor=a, round_id=round_id, data=data, today=TODAY)
    if name in ("db.services.selections.update_nomination", "db.services.selections.withdraw_nomination"):
        _, category_id, nomination_id, unit = _nomination(s, a)
        if name == "db.services.selections.withdraw_nomination":
            return lambda s, a, v: selections.withdraw_nomination(
                session=s, actor=a, nomination_id=nomination_id, reason="推荐单位撤回", expected_version=1, today=TODAY
            )
        data = NominationInput(category_id, unit, "河小青志愿服务队", "理由补充")
        return lambda s, a, v: selections.update_nomination(
            session=s, actor=a, nomination_id=nomination_id, data=data, expected_version=1, today=TODAY
        )
    if name == "db.services.selections.publish_round":
        round_id, category_id, nomination_id, _ = _nomination(s, a)
        return lambda s, a, v: selections.publish_round(
            session=s,
            actor=a,
            round_id=round_id,
            winners={category_id: [nomination_id]},
            expected_version=1,
            today=TODAY + timedelta(days=11),
        )
    if name == "db.services.selections.score_nomination":
        _, _, nomination_id, _ = _nomination(s, a)
        term_id = _term(s, a)
        unit = s.scalar(select(CouncilTerm.organisation_id).where(CouncilTerm.id == term_id))
        user_id = users.create_user(session=s, actor=a, username="lishi", display_name="理事", password="password 123",
                                    role=Role.COUNCIL, organisation_id=unit)  # fmt: skip
        lishi = Actor(user_id=user_id, username="lishi", role=Role.COUNCIL, organisation_id=unit)
        return lambda s, a, v: selections.score_nomination(
            session=s,
            actor=lishi,
            nomination_id=nomination_id,
            score=8,
            recused=False,
            comment="",
            expected_version=0,
            today=TODAY + timedelta(days=11),
        )
    if name in ("db.services.achievements.update_achievement", "db.services.achievements.decide_achievement"):
        unit = _org(s, a, "成果单位")
        achievement_id = achievements.create_achievement(session=s, actor=a, data=_achievement_input(unit), today=TODAY)
        if name == "db.services.achievements.update_achievement":
            data = _achievement_input(unit, "长江大保护志愿行动（修订）")
            return lambda s, a, v: achievements.update_achievement(
                session=s, actor=a, achievement_id=achievement_id, data=data, expected_version=1, today=TODAY
            )
        return lambda s, a, v: achievements.decide_achievement(
            session=s,
            actor=a,
            achievement_id=achievement_id,
            status="published",
            channel="wechat",
            published_on=TODAY,
            note="",
            expected_version=1,
            today=TODAY,
        )
    return CASES[name]


def test_the_table_names_every_registered_write():
    registered = {n for n in WRITE_SERVICES if n.startswith("db.services.")}
    assert registered - NOT_AUDITED == set(CASES)


@pytest.mark.parametrize("name", sorted(n for n in CASES if n != "db.services.users.create_first_admin"))
def test_each_write_leaves_an_audit_entry_and_raises_the_stamp(session, admin, make_actor, name):
    viewer = make_actor(Role.VIEWER)
    call = _prepared(name, session, admin)
    entries = session.scalar(select(func.count()).select_from(AuditEntry))
    stamp = data_version.stamp(session=session)
    call(session, admin, viewer)
    assert session.scalar(select(func.count()).select_from(AuditEntry)) > entries
    assert data_version.stamp(session=session) > stamp


def test_creating_the_first_admin_is_audited(session):
    token = users.issue_setup_token(session=session)
    users.create_first_admin(session=session, actor=ANONYMOUS, token=token, username="root", display_name="x",
                             password="password 123", password_repeat="password 123")  # fmt: skip
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "user.create")) == "user.create"
