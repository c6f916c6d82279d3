"""Typed models. The schema changes only through Alembic migrations in db/migrations/."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, utcnow
from domain.activities import Category, SignupKind, SignupStatus
from domain.applications import PENDING, AppliedFor, AppStatus, Channel, Opinion
from domain.council import SEATS, Attendance, MeetingKind, TermSource, TermStatus, Vote
from domain.organisations import PROVINCES, OrgKind, OrgStatus
from domain.roles import Role
from domain.selections import AchievementCategory, AchievementStatus, NomineeKind, PublicityChannel, RoundStatus


def _in(column: str, values: object) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)  # type: ignore[attr-defined]
    return f"{column} IN ({quoted})"


class Organisation(Base):
    """A unit: a member, a council unit, or the secretariat itself (单位)."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_in("kind", [k.value for k in OrgKind]), name="kind"),
        CheckConstraint(_in("province", PROVINCES), name="province"),
        CheckConstraint(_in("status", [s.value for s in OrgStatus]), name="status"),
        CheckConstraint("credit_code IS NULL OR length(credit_code) = 18", name="credit_code_length"),
        CheckConstraint("length(name) > 0 AND length(name_key) > 0", name="name_not_empty"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_organisations_kind_province", "kind", "province"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(50), default="")
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=OrgStatus.MEMBER.value)
    joined_on: Mapped[date | None] = mapped_column(Date)
    batch: Mapped[str] = mapped_column(String(30), default="")
    is_secretariat: Mapped[bool] = mapped_column(Boolean, default=False)
    # The name's pinyin, so the directory sorts the way users expect (and pages in SQL).
    sort_key: Mapped[str] = mapped_column(String(400), default="", server_default="", index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The channel of the application that admitted the unit this time (None: entered directly), for the overview.
    admitted_channel: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """An account (账号). Roles come from this table, never from the login library."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", [r.value for r in Role]), name="role"),
        CheckConstraint("username = lower(username) AND length(username) >= 3", name="username_form"),
        CheckConstraint("role <> 'council' OR organisation_id IS NOT NULL", name="council_has_unit"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Login throttle, kept here rather than in the login library (whose counter is per process).
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_window_start: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    # Cookies and live sessions from before this moment are refused (logout, reset, deactivation).
    sessions_not_before: Mapped[datetime | None] = mapped_column()
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_activity_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who did what to which record, with the values before and after (操作日志). Never updated."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_record", "record_type", "record_id"),
        CheckConstraint("length(action) > 0", name="action_not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    username: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(60))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Setting(Base):
    """A named setting (intake open, current batch, quorum rules …) with its value as JSON."""

    __tablename__ = "settings"
    __table_args__ = (CheckConstraint("version >= 1", name="version_positive"),)

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class DataVersion(Base):
    """A counter per record type, raised by every write: caches key on it, so a write on one replica
    invalidates the others."""

    __tablename__ = "data_versions"

    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class CouncilSession(Base):
    """A session (届) of the council: three years, each starting when the last ends."""

    __tablename__ = "council_sessions"
    __table_args__ = (
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CouncilTerm(Base):
    """A unit's term in a seat (理事任期), [starts_on, ends_on). Overlap rules are enforced by the database
    (exclusion constraints on PostgreSQL, triggers on SQLite: see migration 0002)."""

    __tablename__ = "council_terms"
    __table_args__ = (
        CheckConstraint(f"seat BETWEEN 1 AND {SEATS}", name="seat_range"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
        CheckConstraint(_in("source", [s.value for s in TermSource]), name="source"),
        CheckConstraint(_in("status", [s.value for s in TermStatus]), name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_council_terms_dates", "starts_on", "ends_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("council_sessions.id", ondelete="RESTRICT"), index=True)
    seat: Mapped[int] = mapped_column(Integer)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    representative: Mapped[str] = mapped_column(String(50), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=TermStatus.ACTIVE.value)
    ended_reason: Mapped[str] = mapped_column(Text, default="")
    # Rotation planning: has the unit said it will serve in the next session? (None: not yet)
    continue_intent: Mapped[str | None] = mapped_column(String(10))
    # Where the term came from: the approved council-unit application it seated, the term it replaced (补选).
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), index=True)
    replaces_term_id: Mapped[int | None] = mapped_column(ForeignKey("council_terms.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


_PENDING_SQL = _in("status", sorted(s.value for s in PENDING))


class Application(Base):
    """An application to join the network (入网申请), with the applicant's organisation data until approval."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(_in("applied_for", [a.value for a in AppliedFor]), name="applied_for"),
        CheckConstraint(_in("channel", [c.value for c in Channel]), name="channel"),
        CheckConstraint(_in("status", [s.value for s in AppStatus]), name="status"),
        CheckConstraint(_in("kind", [k.value for k in OrgKind]), name="kind"),
        CheckConstraint(_in("province", PROVINCES), name="province"),
        CheckConstraint("credit_code IS NULL OR length(credit_code) = 18", name="credit_code_length"),
        CheckConstraint("length(name) > 0 AND length(name_key) > 0", name="name_not_empty"),
        CheckConstraint("channel <> 'recommended' OR recommender_id IS NOT NULL", name="recommender_named"),
        CheckConstraint("status <> 'approved' OR organisation_id IS NOT NULL", name="approved_has_unit"),
        CheckConstraint("version >= 1", name="version_positive"),
        # One pending application per organisation (name or credit code), even from concurrent writers.
        Index(
            "uq_applications_pending_name",
            "name_key",
            unique=True,
            sqlite_where=text_clause(_PENDING_SQL),
            postgresql_where=text_clause(_PENDING_SQL),
        ),
        Index(
            "uq_applications_pending_credit_code",
            "credit_code",
            unique=True,
            sqlite_where=text_clause(_PENDING_SQL + " AND credit_code IS NOT NULL"),
            postgresql_where=text_clause(_PENDING_SQL + " AND credit_code IS NOT NULL"),
        ),
        Index("ix_applications_status_submitted", "status", "submitted_at"),
        # the council's queue: approved 理事单位 applications, oldest decision first
        Index("ix_applications_council_queue", "applied_for", "status", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    applied_for: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(20))
    recommender_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(50), default="")
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    contact_person: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[str] = mapped_column(Text, default="")
    consent_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=AppStatus.SUBMITTED.value)
    message_to_applicant: Mapped[str] = mapped_column(Text, default="")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column()
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationEvent(Base):
    """One step of an application's status history: who, when, from, to, and the note. Never updated."""

    __tablename__ = "application_events"
    __table_args__ = (CheckConstraint(_in("to_status", [s.value for s in AppStatus]), name="to_status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    username: Mapped[str] = mapped_column(String(40), default="")
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")


class CouncilOpinion(Base):
    """A council unit's opinion on an application (理事意见): one per unit, changeable until the decision."""

    __tablename__ = "council_opinions"
    __table_args__ = (
        CheckConstraint(_in("opinion", [o.value for o in Opinion]), name="opinion"),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("application_id", "organisation_id", name="uq_council_opinions_one_per_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    opinion: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeAttempt(Base):
    """A submission of the public form, for its hourly limits. Holds a hash of the client address, never the
    address, and is purged after a day."""

    __tablename__ = "intake_attempts"
    __table_args__ = (Index("ix_intake_attempts_client_at", "client", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client: Mapped[str] = mapped_column(String(64))


class Meeting(Base):
    """A work meeting (工作会议) of the council or the secretariat."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(_in("kind", [k.value for k in MeetingKind]), name="kind"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    online_link: Mapped[str] = mapped_column(String(500), default="")
    notice_on: Mapped[date | None] = mapped_column(Date)
    minutes: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgendaItem(Base):
    """One item of a meeting's agenda, in order."""

    __tablename__ = "meeting_agenda_items"
    __table_args__ = (UniqueConstraint("meeting_id", "position", name="uq_meeting_agenda_items_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))


class MeetingAttendance(Base):
    """A council unit's attendance at a meeting (出席 / 请假 / 缺席, with a proxy if any)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (
        CheckConstraint(_in("status", [a.value for a in Attendance]), name="status"),
        UniqueConstraint("meeting_id", "organisation_id", name="uq_meeting_attendance_one_per_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    proxy: Mapped[str] = mapped_column(String(50), default="")


class Decision(Base):
    """A decision (决议) put to the vote at a meeting."""

    __tablename__ = "meeting_decisions"
    __table_args__ = (CheckConstraint("length(title) > 0", name="title_not_empty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")


class DecisionVote(Base):
    """A council unit's vote on a decision (同意 / 反对 / 弃权)."""

    __tablename__ = "decision_votes"
    __table_args__ = (
        CheckConstraint(_in("vote", [v.value for v in Vote]), name="vote"),
        UniqueConstraint("decision_id", "organisation_id", name="uq_decision_votes_one_per_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("meeting_decisions.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    vote: Mapped[str] = mapped_column(String(10))


class Activity(Base):
    """An activity on the network's calendar (活动): a training, a forum, a volunteer action …"""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(_in("category", [c.value for c in Category]), name="category"),
        CheckConstraint(_in("province", PROVINCES), name="province"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("volunteers IS NULL OR volunteers >= 0", name="volunteers_not_negative"),
        CheckConstraint("service_hours IS NULL OR service_hours >= 0", name="hours_not_negative"),
        CheckConstraint("(cancelled_at IS NULL) = (cancel_reason IS NULL)", name="cancel_has_reason"),
        CheckConstraint("version >= 1", name="version_positive"),
        # A view reads the activities overlapping its range: start within [range start - longest, range end).
        Index("ix_activities_period", "starts_at", "ends_at"),
        Index("ix_activities_place", "place_key", "starts_at"),
        # the home reminder: finished activities still without an outcome (few, whatever the calendar's size)
        Index(
            "ix_activities_missing_outcome",
            "ends_at",
            sqlite_where=text_clause("outcome_at IS NULL AND cancelled_at IS NULL"),
            postgresql_where=text_clause("outcome_at IS NULL AND cancelled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The title as searched (NFKC, case-folded, no spaces): both databases match the same way, full-width too.
    title_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20))
    # None: the secretariat organises it on the network's behalf.
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    place: Mapped[str] = mapped_column(String(200), default="")
    place_key: Mapped[str] = mapped_column(String(200), default="")
    province: Mapped[str] = mapped_column(String(10))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    online_link: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column()
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    volunteers: Mapped[int | None] = mapped_column(Integer)
    service_hours: Mapped[float | None] = mapped_column(Numeric(12, 1, asdecimal=False))
    outcome_summary: Mapped[str] = mapped_column(Text, default="")
    outcome_link: Mapped[str] = mapped_column(String(500), default="")
    outcome_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityCoOrganiser(Base):
    """A member unit organising an activity together with its organiser (协办)."""

    __tablename__ = "activity_co_organisers"
    __table_args__ = (UniqueConstraint("activity_id", "organisation_id", name="uq_activity_co_organisers_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)


class Signup(Base):
    """A member unit's sign-up (报名) for an activity with its number of people, or an invitation (邀请)."""

    __tablename__ = "signups"
    __table_args__ = (
        CheckConstraint(_in("kind", [k.value for k in SignupKind]), name="kind"),
        CheckConstraint(_in("status", [s.value for s in SignupStatus]), name="status"),
        CheckConstraint("people >= 1", name="people_positive"),
        CheckConstraint(
            "(kind = 'invitation' AND status IN ('invited', 'cancelled'))"
            " OR (kind = 'signup' AND status IN ('confirmed', 'waitlisted', 'cancelled'))",
            name="status_fits_kind",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        # One live sign-up or invitation per unit and activity; withdrawn ones stay as history.
        Index(
            "uq_signups_live_unit",
            "activity_id",
            "organisation_id",
            unique=True,
            sqlite_where=text_clause("status <> 'cancelled'"),
            postgresql_where=text_clause("status <> 'cancelled'"),
        ),
        Index("ix_signups_activity_status", "activity_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="RESTRICT"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    people: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# Roll-ups: the overview reads these summary rows instead of scanning activities and sign-ups. Each row is a
# recount of one month's slice, refreshed by db.services.rollups in the same transaction as every write that
# changes it (and rebuilt whole by `python -m db.services.rollups`).


class ActivityRollup(Base):
    """Per month (of the start, Asia/Shanghai) × category × province × organiser's unit kind ('' for the
    secretariat): activities held and cancelled, outcomes, volunteers, service hours, confirmed sign-ups and people."""

    __tablename__ = "activity_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    province: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    activities: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    with_outcome: Mapped[int] = mapped_column(Integer, default=0)
    volunteers: Mapped[int] = mapped_column(BigInteger, default=0)
    service_hours: Mapped[float] = mapped_column(Numeric(14, 1, asdecimal=False), default=0)
    signups: Mapped[int] = mapped_column(Integer, default=0)
    people: Mapped[int] = mapped_column(BigInteger, default=0)


class ApplicationRollup(Base):
    """Per month of submission × channel × status × applying as × province × unit kind: applications."""

    __tablename__ = "application_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    applied_for: Mapped[str] = mapped_column(String(20), primary_key=True)
    province: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    applications: Mapped[int] = mapped_column(Integer, default=0)


class ReviewRollup(Base):
    """Per month of decision × channel × province × unit kind × whole days from submission to decision:
    decided applications (a histogram, so medians and distributions are exact)."""

    __tablename__ = "review_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    province: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    decided: Mapped[int] = mapped_column(Integer, default=0)


class MemberRollup(Base):
    """Per month joined × channel that admitted the unit ('direct': entered without an application) × province ×
    unit kind: units that joined."""

    __tablename__ = "member_rollups"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    province: Mapped[str] = mapped_column(String(10), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    joined: Mapped[int] = mapped_column(Integer, default=0)


class SelectionRound(Base):
    """A model selection round (先进典型推选): its call for nominations, the council's review and the result."""

    __tablename__ = "selection_rounds"
    __table_args__ = (
        CheckConstraint(_in("status", [s.value for s in RoundStatus]), name="status"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("review_deadline > nomination_deadline", name="deadlines_in_order"),
        CheckConstraint("max_per_unit BETWEEN 1 AND 10", name="max_per_unit_range"),
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published_has_time"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    year: Mapped[int] = mapped_column(Integer, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    nomination_deadline: Mapped[date] = mapped_column(Date)
    review_deadline: Mapped[date] = mapped_column(Date)
    # How many nominees one unit may put forward per category.
    max_per_unit: Mapped[int] = mapped_column(Integer, default=1)
    # Stored: open, review (the call ended early) or published; the deadline moves an open round to review.
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.OPEN.value)
    published_at: Mapped[datetime | None] = mapped_column()
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SelectionCategory(Base):
    """A category of a round (优秀组织 / 优秀个人 / 优秀项目 …) with the kind of nominee and the places."""

    __tablename__ = "selection_categories"
    __table_args__ = (
        CheckConstraint(_in("nominee_kind", [k.value for k in NomineeKind]), name="nominee_kind"),
        CheckConstraint("places >= 1", name="places_positive"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        UniqueConstraint("round_id", "name", name="uq_selection_categories_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("selection_rounds.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(30))
    nominee_kind: Mapped[str] = mapped_column(String(20))
    places: Mapped[int] = mapped_column(Integer)


class Nomination(Base):
    """A member unit's nomination (推荐) of an organisation, a person or a project in a round's category."""

    __tablename__ = "nominations"
    __table_args__ = (
        CheckConstraint(_in("nominee_kind", [k.value for k in NomineeKind]), name="nominee_kind"),
        CheckConstraint("length(nominee_name) > 0 AND length(reasons) > 0", name="name_and_reasons"),
        CheckConstraint("(withdrawn_at IS NULL) = (withdraw_reason IS NULL)", name="withdrawal_has_reason"),
        CheckConstraint("NOT (winner AND withdrawn_at IS NOT NULL)", name="withdrawn_never_wins"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_nominations_round_unit", "round_id", "nominating_org_id", "category_id"),
        Index("ix_nominations_category", "category_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("selection_rounds.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(ForeignKey("selection_categories.id", ondelete="RESTRICT"))
    nominating_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    nominee_kind: Mapped[str] = mapped_column(String(20))
    nominee_name: Mapped[str] = mapped_column(String(100))
    # An organisation nominee that is in the directory (its record is attached too).
    nominee_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    winner: Mapped[bool] = mapped_column(Boolean, default=False)
    # The units' records as they stood when the result was published (computed live before).
    record: Mapped[Any | None] = mapped_column(JSON)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NominationScore(Base):
    """A council unit's score of a nomination (1–10), or its recusal (回避) which carries no score."""

    __tablename__ = "nomination_scores"
    __table_args__ = (
        CheckConstraint(
            "(recused AND score IS NULL) OR (NOT recused AND score BETWEEN 1 AND 10)", name="score_or_recusal"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("nomination_id", "organisation_id", name="uq_nomination_scores_one_per_unit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="RESTRICT"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    score: Mapped[int | None] = mapped_column(Integer)
    recused: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Achievement(Base):
    """A member unit's achievement (成果) submitted for publicity: 待审核 → 已发布 (with its channel) / 未采用."""

    __tablename__ = "achievements"
    __table_args__ = (
        CheckConstraint(_in("status", [s.value for s in AchievementStatus]), name="status"),
        CheckConstraint(_in("category", [c.value for c in AchievementCategory]), name="category"),
        CheckConstraint("channel IS NULL OR " + _in("channel", [c.value for c in PublicityChannel]), name="channel"),
        CheckConstraint(
            "(status = 'published') = (channel IS NOT NULL AND published_on IS NOT NULL)", name="published_has_channel"
        ),
        CheckConstraint("length(title) > 0 AND length(summary) > 0", name="title_and_summary"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_achievements_unit_status", "organisation_id", "status", "published_on"),
        Index("ix_achievements_status_published", "status", "published_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    title_key: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    achieved_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(20))
    link: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default=AchievementStatus.PENDING.value)
    channel: Mapped[str | None] = mapped_column(String(20))
    published_on: Mapped[date | None] = mapped_column(Date)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
