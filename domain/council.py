"""Council sessions (届) and terms (理事任期): 10 seats, sessions of 3 years, half-open date ranges."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.errors import ValidationError

SEATS = 10
SESSION_YEARS = 3
MAX_REPRESENTATIVE = 50


class TermSource(StrEnum):
    SELF_APPLIED = "self_applied"  # 自主报名
    INVITED = "invited"  # 网络邀请
    RECOMMENDED = "recommended"  # 成员推荐
    BY_ELECTION = "by_election"  # 补选


class TermStatus(StrEnum):
    ACTIVE = "active"  # 在任
    EXPIRED = "expired"  # 届满
    RESIGNED = "resigned"  # 辞任


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February falls on 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def session_end(starts_on: date) -> date:
    """The (exclusive) end of a session that starts on `starts_on`: three years later."""
    return add_years(starts_on, SESSION_YEARS)


@dataclass(frozen=True)
class Interval:
    """A half-open date range [start, end)."""

    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end

    def within(self, other: "Interval") -> bool:
        return other.start <= self.start and self.end <= other.end


def check_term(*, seat: int, term: Interval, session: Interval, source: str, representative: str) -> None:
    """Refuse a term that breaks a rule that needs no other term to check."""
    if not 1 <= seat <= SEATS:
        raise ValidationError("validation.seat_range", field="seat", max=SEATS)
    if term.end <= term.start:
        raise ValidationError("validation.dates_reversed", field="ends_on")
    if not term.within(session):
        raise ValidationError("validation.term_outside_session", field="starts_on")
    if source not in {s.value for s in TermSource}:
        raise ValidationError("validation.choice", field="source")
    if len(representative) > MAX_REPRESENTATIVE:
        raise ValidationError("validation.too_long", field="representative", max=MAX_REPRESENTATIVE)


class Intent(StrEnum):
    """Whether a sitting unit has said it will serve in the next session (unknown until it says)."""

    CONTINUE = "continue"  # 愿意连任
    LEAVE = "leave"  # 不再连任


class MeetingKind(StrEnum):
    COUNCIL = "council"  # 理事会会议
    SECRETARIAT = "secretariat"  # 秘书处工作会议
    TOPIC = "topic"  # 专题会


class Attendance(StrEnum):
    PRESENT = "present"  # 出席
    LEAVE = "leave"  # 请假
    ABSENT = "absent"  # 缺席


class Vote(StrEnum):
    AGREE = "agree"  # 同意
    OPPOSE = "oppose"  # 反对
    ABSTAIN = "abstain"  # 弃权


@dataclass(frozen=True)
class VotingRule:
    """DOMAIN.md's defaults: quorum = more than half of the seated units present; a decision passes with 同意
    from more than half of the units present. The shares are settings."""

    quorum_share: float = 0.5
    pass_share: float = 0.5


def quorum_met(*, seated: int, present: int, rule: VotingRule) -> bool:
    """Whether enough seated units are present (strictly more than the share)."""
    return seated > 0 and present > seated * rule.quorum_share


def decision_passes(*, present: int, agree: int, quorum: bool, rule: VotingRule) -> bool:
    """Whether a decision passes: the meeting has its quorum and 同意 exceeds the share of units present."""
    return quorum and present > 0 and agree > present * rule.pass_share


def consecutive_sessions(held: set[int], current: int) -> int:
    """How many sessions in a row, ending with `current`, a unit has held a seat (可连续担任)."""
    count = 0
    while current - count in held:
        count += 1
    return count


MAX_MEETING_TEXT = 200
MAX_MINUTES = 20000
