"""Achievements (成果展示) on both databases: recording a member's achievement, correcting it while it waits,
publishing it with its channel and date or turning it down with a reason, decisions that stay final, the list's
filters and pages against counts written by hand, who may do what, and the audit trail."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from db.services import achievements as svc
from db.services import organisations
from db.services.achievements import AchievementFilters
from db.services.todos import collect_todos
from domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from domain.roles import ANONYMOUS, Actor, Role
from domain.selections import AchievementInput
from tests.conftest import TODAY, org_input


def new_unit(session, admin, name: str) -> int:
    return organisations.create_organisation(
        session=session, actor=admin, today=TODAY, data=org_input(name, kind="volunteer_team", credit_code="")
    )


def achievement(
    unit: int,
    title: str = "长江大保护志愿行动",
    *,
    day: date = date(2026, 6, 1),
    category: str = "brand_project",
    summary: str = "三年累计服务两万小时",
    link: str = "",
) -> AchievementInput:
    return AchievementInput(unit, title, summary, day, category, link)


def create(session, actor, data: AchievementInput, today: date = TODAY) -> int:
    return svc.create_achievement(session=session, actor=actor, data=data, today=today)


def version_of(session, achievement_id: int) -> int:
    return session.execute(text("SELECT version FROM achievements WHERE id = :id"), {"id": achievement_id}).scalar_one()


def decide(
    session,
    actor,
    achievement_id: int,
    status: str,
    *,
    channel: str | None = None,
    published_on: date | None = None,
    note: str = "",
    today: date = TODAY,
    version: int | None = None,
) -> int:
    return svc.decide_achievement(
        session=session,
        actor=actor,
        achievement_id=achievement_id,
        status=status,
        channel=channel,
        published_on=published_on,
        note=note,
        expected_version=version_of(session, achievement_id) if version is None else version,
        today=today,
    )


def stored(session, achievement_id: int):
    return session.execute(
        text(
            "SELECT organisation_id, title, summary, achieved_on, category, link, status, channel, published_on, "
            "decision_note, decided_by, version FROM achievements WHERE id = :id"
        ),
        {"id": achievement_id},
    ).one()


def count(session, sql: str, **params: object) -> int:
    return session.execute(text(sql), params).scalar_one()


def table_state(session) -> tuple[object, ...]:
    rows = session.execute(text("SELECT * FROM achievements ORDER BY id")).all()
    return [tuple(r) for r in rows], count(session, "SELECT COUNT(*) FROM audit_entries")


def as_date(value) -> date:
    """A date column read by raw SQL (SQLite returns the text it stores)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


@pytest.fixture
def staff(make_actor) -> Actor:
    return make_actor(Role.SECRETARIAT)


@pytest.fixture
def unit(session, admin) -> int:
    return new_unit(session, admin, "河小青志愿服务队")


# ---------------------------------------------------------------- recording and correcting


def test_an_achievement_is_recorded_pending_as_typed(session, staff, unit):
    a = create(session, staff, achievement(unit, "  长江大保护志愿行动 ", link="https://example.org/x"))
    row = stored(session, a)
    assert (row.organisation_id, row.title, row.category, row.link, row.status, row.channel, row.version) == (
        unit,
        "长江大保护志愿行动",
        "brand_project",
        "https://example.org/x",
        "pending",
        None,
        1,
    )
    assert as_date(row.achieved_on) == date(2026, 6, 1)
    detail = svc.get_achievement(session=session, actor=staff, achievement_id=a)
    assert (detail.organisation, detail.status) == ("河小青志愿服务队", "pending")


def test_the_secretariat_itself_is_not_a_unit_with_achievements(session, admin, staff):
    secretariat = organisations.create_organisation(
        session=session,
        actor=admin,
        today=TODAY,
        data=org_input("生态环境部宣传教育中心", kind="government", is_secretariat=True),
    )
    before = table_state(session)
    with pytest.raises(ValidationError) as err:
        create(session, staff, achievement(secretariat))
    assert (err.value.key, err.value.field) == ("validation.choice", "organisation")
    with pytest.raises(ValidationError):
        create(session, staff, achievement(999_999))
    assert table_state(session) == before


@pytest.mark.parametrize("status", ["suspended", "exited"])
def test_a_unit_that_is_not_a_member_gets_no_new_achievement(session, admin, staff, unit, status):
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=unit, expected_version=1, status=status, reason="暂停"
    )
    before = table_state(session)
    with pytest.raises(ValidationError) as err:
        create(session, staff, achievement(unit))
    assert err.value.key == "validation.not_member"
    assert table_state(session) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "标" * 201}, "title"),
        ({"summary": " "}, "summary"),
        ({"day": TODAY + timedelta(days=1)}, "achieved_on"),
        ({"day": date(1999, 12, 31)}, "achieved_on"),
        ({"category": "poem"}, "category"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"title": "<script>alert(1)</script>\x00"}, "title"),
    ],
)
def test_bad_input_is_refused_naming_its_field_and_writes_nothing(session, staff, unit, overrides, field):
    before = table_state(session)
    with pytest.raises(ValidationError) as err:
        create(session, staff, achievement(unit, **overrides))
    assert err.value.field == field
    assert table_state(session) == before


def test_html_and_sql_in_a_title_are_kept_as_text(session, staff, unit):
    title = "<b>成果</b>'; DROP TABLE achievements; --"
    a = create(session, staff, achievement(unit, title))
    assert stored(session, a).title == title


def test_a_title_that_grows_when_normalised_is_saved_and_found(session, staff, unit, backend, request):
    title = "湿地修复面积" + "㎡" * 150  # 156 characters as typed, 306 once normalised
    a = create(session, staff, achievement(unit, title))
    assert stored(session, a).title == title
    rows, total = svc.list_achievements(session=session, actor=staff, filters=AchievementFilters(search="湿地修复"))
    assert ([r.id for r in rows], total) == ([a], 1)


def test_a_pending_achievement_is_corrected_on_the_version_seen(session, admin, staff, unit):
    other = new_unit(session, admin, "绿色江河志愿队")
    a = create(session, staff, achievement(unit))
    corrected = achievement(other, "长江大保护志愿行动（修订）", day=date(2026, 5, 1), category="service_case")
    assert (
        svc.update_achievement(
            session=session, actor=staff, achievement_id=a, data=corrected, expected_version=1, today=TODAY
        )
        == 2
    )
    row = stored(session, a)
    assert (row.organisation_id, row.title, row.category, as_date(row.achieved_on)) == (
        other,
        "长江大保护志愿行动（修订）",
        "service_case",
        date(2026, 5, 1),
    )
    before = table_state(session)
    with pytest.raises(StaleRecord):
        svc.update_achievement(
            session=session, actor=staff, achievement_id=a, data=achievement(unit), expected_version=1, today=TODAY
        )
    assert table_state(session) == before


def test_a_correction_moving_it_to_a_unit_that_is_not_a_member_is_refused(session, admin, staff, unit):
    gone = new_unit(session, admin, "已退出单位")
    organisations.set_organisation_status(
        session=session, actor=admin, organisation_id=gone, expected_version=1, status="exited", reason="退出"
    )
    a = create(session, staff, achievement(unit))
    before = table_state(session)
    with pytest.raises(ValidationError):
        svc.update_achievement(
            session=session, actor=staff, achievement_id=a, data=achievement(gone), expected_version=1, today=TODAY
        )
    assert table_state(session) == before


def test_a_missing_achievement_is_not_found(session, staff):
    with pytest.raises(NotFound):
        svc.get_achievement(session=session, actor=staff, achievement_id=999_999)
    with pytest.raises(NotFound):
        decide(session, staff, 999_999, "rejected", note="x", version=1)


# ---------------------------------------------------------------- decisions


def test_an_achievement_is_published_with_its_channel_and_date(session, staff, unit):
    a = create(session, staff, achievement(unit, day=date(2026, 6, 1)))
    assert decide(session, staff, a, "published", channel="wechat", published_on=date(2026, 6, 1), note="首发") == 2
    row = stored(session, a)
    assert (row.status, row.channel, as_date(row.published_on), row.decision_note, row.decided_by) == (
        "published",
        "wechat",
        date(2026, 6, 1),
        "首发",
        staff.user_id,
    )


def test_an_achievement_is_turned_down_with_a_reason_and_no_channel(session, staff, unit):
    a = create(session, staff, achievement(unit))
    decide(session, staff, a, "rejected", channel="wechat", published_on=TODAY, note="材料不全")
    row = stored(session, a)
    assert (row.status, row.channel, row.published_on, row.decision_note) == ("rejected", None, None, "材料不全")


@pytest.mark.parametrize(
    ("status", "channel", "published_on", "note", "key"),
    [
        ("published", None, date(2026, 7, 1), "", "validation.required"),
        ("published", "tiktok", date(2026, 7, 1), "", "validation.required"),
        ("published", "wechat", None, "", "validation.required"),
        ("published", "wechat", TODAY + timedelta(days=1), "", "validation.date_in_future"),
        ("published", "wechat", date(2026, 5, 31), "", "validation.published_before_achieved"),
        ("rejected", None, None, "", "validation.reason_required"),
        ("rejected", None, None, "  ", "validation.reason_required"),
        ("pending", None, None, "x", "validation.choice"),
    ],
)
def test_a_decision_without_what_it_needs_changes_nothing(
    session, staff, unit, status, channel, published_on, note, key
):
    a = create(session, staff, achievement(unit, day=date(2026, 6, 1)))
    before = table_state(session)
    with pytest.raises(ValidationError) as err:
        decide(session, staff, a, status, channel=channel, published_on=published_on, note=note)
    assert err.value.key == key
    assert table_state(session) == before


@pytest.mark.parametrize("first", ["published", "rejected"])
def test_a_decision_is_final_and_the_record_no_longer_editable(session, staff, unit, first):
    a = create(session, staff, achievement(unit))
    decide(session, staff, a, first, channel="website", published_on=TODAY, note="已定")
    before = table_state(session)
    for again in ("published", "rejected"):
        with pytest.raises(ValidationError) as err:
            decide(session, staff, a, again, channel="media", published_on=TODAY, note="改判")
        assert err.value.key == "validation.achievement_decided"
    with pytest.raises(ValidationError) as err:
        svc.update_achievement(
            session=session,
            actor=staff,
            achievement_id=a,
            data=achievement(unit, "改标题"),
            expected_version=2,
            today=TODAY,
        )
    assert err.value.key == "validation.achievement_decided"
    assert table_state(session) == before


def test_a_decision_on_a_stale_version_is_refused(session, staff, unit):
    a = create(session, staff, achievement(unit))
    svc.update_achievement(
        session=session,
        actor=staff,
        achievement_id=a,
        data=achievement(unit, "新标题"),
        expected_version=1,
        today=TODAY,
    )
    before = table_state(session)
    with pytest.raises(StaleRecord):
        decide(session, staff, a, "rejected", note="重复", version=1)
    assert table_state(session) == before


# ---------------------------------------------------------------- the list


@pytest.fixture
def shelf(session, admin, staff):
    """Fourteen achievements of three units over three years, in every status."""
    a, b, c = (new_unit(session, admin, n) for n in ("甲单位", "乙单位", "丙单位"))
    plan = [
        (a, "River Guard 河道守护", date(2026, 6, 1), "service_case", "published"),
        (a, "河道守护二期", date(2026, 6, 1), "service_case", "pending"),
        (a, "湿地课堂", date(2025, 12, 31), "training_course", "rejected"),
        (a, "100%覆盖的垃圾分类", date(2026, 1, 1), "brand_project", "pending"),
        (a, "观鸟手册", date(2024, 3, 3), "publicity_work", "published"),
        (b, "river_guard 三期", date(2026, 2, 2), "service_case", "pending"),
        (b, "低碳社区调研", date(2025, 7, 7), "research", "published"),
        (b, "低碳社区调研（续）", date(2026, 7, 7), "research", "pending"),
        (b, "净滩行动", date(2026, 9, 1), "other", "rejected"),
        (c, "净滩行动", date(2026, 9, 1), "other", "pending"),
        (c, "护鸟志愿营", date(2025, 1, 1), "brand_project", "published"),
        (c, "护鸟志愿营二期", date(2026, 11, 28), "brand_project", "pending"),
        (c, "生态摄影展", date(2024, 12, 31), "publicity_work", "pending"),
        (c, "ＲＩＶＥＲ　ＧＵＡＲＤ 全宽", date(2026, 3, 3), "service_case", "pending"),
    ]
    for unit, title, day, category, status in plan:
        i = create(session, staff, achievement(unit, title, day=day, category=category))
        if status == "published":
            decide(session, staff, i, "published", channel="bulletin", published_on=day)
        elif status == "rejected":
            decide(session, staff, i, "rejected", note="不符合")
    return a, b, c


def hand_ids(session, where: str = "1 = 1", **params: object) -> list[int]:
    sql = f"SELECT id FROM achievements WHERE {where} ORDER BY achieved_on DESC, id DESC"
    return list(session.execute(text(sql), params).scalars())


FILTERS = {
    "all": (AchievementFilters(), "1 = 1", {}),
    "pending": (AchievementFilters(status="pending"), "status = 'pending'", {}),
    "published": (AchievementFilters(status="published"), "status = 'published'", {}),
    "rejected": (AchievementFilters(status="rejected"), "status = 'rejected'", {}),
    "category": (AchievementFilters(category="service_case"), "category = 'service_case'", {}),
    "year 2026": (
        AchievementFilters(year=2026),
        "achieved_on >= :f AND achieved_on <= :l",
        {"f": date(2026, 1, 1), "l": date(2026, 12, 31)},
    ),
    "year 2025": (
        AchievementFilters(year=2025),
        "achieved_on >= :f AND achieved_on <= :l",
        {"f": date(2025, 1, 1), "l": date(2025, 12, 31)},
    ),
    "year 2023": (AchievementFilters(year=2023), "1 = 0", {}),
    "pending in 2026": (
        AchievementFilters(status="pending", year=2026),
        "status = 'pending' AND achieved_on >= :f AND achieved_on <= :l",
        {"f": date(2026, 1, 1), "l": date(2026, 12, 31)},
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_finds_what_a_hand_written_count_finds(session, staff, shelf, name):
    filters, where, params = FILTERS[name]
    expected = hand_ids(session, where, **params)
    rows, total = svc.list_achievements(session=session, actor=staff, filters=filters, limit=None)
    assert [r.id for r in rows] == expected
    assert total == len(expected)


def test_the_unit_filter_finds_only_that_units_achievements(session, staff, shelf):
    b = shelf[1]
    for unit in shelf:
        expected = hand_ids(session, "organisation_id = :o", o=unit)
        rows, total = svc.list_achievements(
            session=session, actor=staff, filters=AchievementFilters(organisation_id=unit), limit=None
        )
        assert ([r.id for r in rows], total) == (expected, len(expected))
    rows, total = svc.list_achievements(
        session=session,
        actor=staff,
        limit=None,
        filters=AchievementFilters(organisation_id=b, status="pending", year=2026),
    )
    expected = hand_ids(
        session, "organisation_id = :o AND status = 'pending' AND achieved_on >= :f", o=b, f=date(2026, 1, 1)
    )
    assert ([r.id for r in rows], total) == (expected, 2)


@pytest.mark.parametrize(
    ("search", "titles"),
    [
        ("河道", {"River Guard 河道守护", "河道守护二期"}),
        ("river guard", {"River Guard 河道守护", "ＲＩＶＥＲ　ＧＵＡＲＤ 全宽"}),  # case, width and spaces ignored
        ("ＲＩＶＥＲＧＵＡＲＤ", {"River Guard 河道守护", "ＲＩＶＥＲ　ＧＵＡＲＤ 全宽"}),
        ("river_guard", {"river_guard 三期"}),  # "_" is a character, not a wildcard
        ("%", {"100%覆盖的垃圾分类"}),  # "%" too
        ("净滩", {"净滩行动"}),
        ("不存在的成果", set()),
        ("   ", None),  # blank: no search
    ],
)
def test_search_matches_titles_ignoring_case_width_and_spaces(session, staff, shelf, search, titles):
    rows, total = svc.list_achievements(
        session=session, actor=staff, filters=AchievementFilters(search=search), limit=None
    )
    if titles is None:
        assert total == count(session, "SELECT COUNT(*) FROM achievements")
        return
    assert {r.title for r in rows} == titles
    by_hand = sum(count(session, "SELECT COUNT(*) FROM achievements WHERE title = :t", t=t) for t in titles)
    assert total == len(rows) == by_hand


@pytest.mark.parametrize("size", [1, 4, 5, 14, 50])
def test_the_pages_cover_the_list_once_in_order_with_the_same_total(session, staff, shelf, size):
    expected = hand_ids(session)
    seen: list[int] = []
    for offset in range(0, len(expected) + size, size):
        rows, total = svc.list_achievements(
            session=session, actor=staff, filters=AchievementFilters(), limit=size, offset=offset
        )
        assert total == len(expected) == 14
        assert len(rows) <= size
        seen.extend(r.id for r in rows)
    assert seen == expected


def test_the_status_badges_count_each_status_under_the_other_filters(session, staff, shelf):
    def by_hand(where: str = "1 = 1", **params: object) -> dict[str, int]:
        rows = session.execute(text(f"SELECT status, COUNT(*) FROM achievements WHERE {where} GROUP BY status"), params)
        return {s: n for s, n in rows}

    assert svc.status_counts(session=session, actor=staff, filters=AchievementFilters()) == by_hand()
    assert by_hand() == {"pending": 8, "published": 4, "rejected": 2}
    # the status filter itself is ignored (each tab shows its own count)
    assert svc.status_counts(session=session, actor=staff, filters=AchievementFilters(status="pending", year=2026)) == (
        by_hand("achieved_on >= :f AND achieved_on <= :l", f=date(2026, 1, 1), l=date(2026, 12, 31))
    )
    assert svc.status_counts(session=session, actor=staff, filters=AchievementFilters(search="河道")) == {
        "pending": 1,
        "published": 1,
    }


def test_the_year_choices_run_from_the_newest_to_the_oldest_achievement(session, staff, shelf):
    assert svc.achievement_years(session=session, actor=staff) == [2026, 2025, 2024]


def test_no_achievements_means_no_year_choices_and_an_empty_page(session, staff):
    assert svc.achievement_years(session=session, actor=staff) == []
    assert svc.list_achievements(session=session, actor=staff, filters=AchievementFilters()) == ([], 0)


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.VIEWER, None], ids=lambda r: r.value if r else "anonymous")
def test_only_staff_record_correct_and_decide(session, staff, unit, make_actor, role):
    actor = make_actor(role) if role else ANONYMOUS
    a = create(session, staff, achievement(unit))
    before = table_state(session)
    with pytest.raises(PermissionDenied):
        create(session, actor, achievement(unit, "另一项"))
    with pytest.raises(PermissionDenied):
        svc.update_achievement(
            session=session,
            actor=actor,
            achievement_id=a,
            data=achievement(unit, "改"),
            expected_version=1,
            today=TODAY,
        )
    with pytest.raises(PermissionDenied):
        decide(session, actor, a, "published", channel="wechat", published_on=TODAY)
    assert table_state(session) == before


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECRETARIAT])
def test_admin_and_secretariat_record_and_decide(session, unit, make_actor, role):
    actor = make_actor(role)
    a = create(session, actor, achievement(unit))
    decide(session, actor, a, "published", channel="exhibition", published_on=TODAY)
    assert stored(session, a).status == "published"


def test_council_units_read_the_achievements_and_viewers_do_not(session, staff, unit, make_actor):
    a = create(session, staff, achievement(unit))
    lishi, viewer = make_actor(Role.COUNCIL), make_actor(Role.VIEWER)
    assert svc.get_achievement(session=session, actor=lishi, achievement_id=a).id == a
    assert svc.list_achievements(session=session, actor=lishi, filters=AchievementFilters())[1] == 1
    assert svc.status_counts(session=session, actor=lishi, filters=AchievementFilters()) == {"pending": 1}
    for actor in (viewer, ANONYMOUS):
        with pytest.raises(PermissionDenied):
            svc.get_achievement(session=session, actor=actor, achievement_id=a)
        with pytest.raises(PermissionDenied):
            svc.list_achievements(session=session, actor=actor, filters=AchievementFilters())
        with pytest.raises(PermissionDenied):
            svc.status_counts(session=session, actor=actor, filters=AchievementFilters())
        with pytest.raises(PermissionDenied):
            svc.achievement_years(session=session, actor=actor)


# ---------------------------------------------------------------- audit and to-dos


def test_each_write_leaves_an_audit_entry_with_what_changed(session, staff, unit):
    a = create(session, staff, achievement(unit))
    svc.update_achievement(
        session=session,
        actor=staff,
        achievement_id=a,
        data=achievement(unit, "新标题"),
        expected_version=1,
        today=TODAY,
    )
    decide(session, staff, a, "published", channel="media", published_on=TODAY, note="央视报道")
    rows = session.execute(
        text(
            "SELECT action, username FROM audit_entries WHERE record_type = 'achievement' AND record_id = :i "
            "ORDER BY id"
        ),
        {"i": str(a)},
    ).all()
    assert [tuple(r) for r in rows] == [
        ("achievement.create", staff.username),
        ("achievement.update", staff.username),
        ("achievement.decide", staff.username),
    ]


def test_staff_are_reminded_of_pending_achievements(session, staff, unit, make_actor):
    def pending(actor) -> list[int]:
        return [t.count for t in collect_todos(session=session, actor=actor) if t.key == "todo.achievements_pending"]

    assert pending(staff) == []
    a = create(session, staff, achievement(unit))
    create(session, staff, achievement(unit, "第二项"))
    assert pending(staff) == [2]
    assert pending(make_actor(Role.COUNCIL)) == []
    decide(session, staff, a, "rejected", note="重复")
    assert pending(staff) == [1]
