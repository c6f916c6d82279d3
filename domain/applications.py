"""Applications to join the network (入网申请): what is applied for, the channel, the status machine of
DOMAIN.md, reference numbers and the limits of the public form."""

import secrets
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from domain.errors import ValidationError
from domain.organisations import OrganisationInput, validate_organisation
from domain.text import bounded_text, normalise_identifier


class AppliedFor(StrEnum):
    MEMBER = "member"  # 成员单位
    COUNCIL = "council"  # 理事单位


class Channel(StrEnum):
    SELF_APPLIED = "self_applied"  # 自主报名
    INVITED = "invited"  # 网络邀请
    RECOMMENDED = "recommended"  # 成员推荐


class AppStatus(StrEnum):
    SUBMITTED = "submitted"  # 已提交
    IN_REVIEW = "in_review"  # 审核中
    NEEDS_MORE = "needs_more"  # 需补充材料
    APPROVED = "approved"  # 已通过
    REJECTED = "rejected"  # 未通过
    WITHDRAWN = "withdrawn"  # 已撤回


class Opinion(StrEnum):
    AGREE = "agree"  # 同意
    OPPOSE = "oppose"  # 反对
    ABSTAIN = "abstain"  # 弃权


PENDING = frozenset({AppStatus.SUBMITTED, AppStatus.IN_REVIEW, AppStatus.NEEDS_MORE})
FINAL = frozenset({AppStatus.APPROVED, AppStatus.REJECTED, AppStatus.WITHDRAWN})


class NoteRule(StrEnum):
    """What a transition needs written with it."""

    OPTIONAL = "optional"
    MESSAGE = "message"  # a message to the applicant (需补充材料)
    REASON = "reason"  # the reason for the decision (未通过)


# DOMAIN.md's transition table; nothing else is allowed (all by the secretariat).
TRANSITIONS: dict[tuple[AppStatus, AppStatus], NoteRule] = {
    (AppStatus.SUBMITTED, AppStatus.IN_REVIEW): NoteRule.OPTIONAL,
    (AppStatus.SUBMITTED, AppStatus.NEEDS_MORE): NoteRule.MESSAGE,
    (AppStatus.IN_REVIEW, AppStatus.NEEDS_MORE): NoteRule.MESSAGE,
    (AppStatus.NEEDS_MORE, AppStatus.IN_REVIEW): NoteRule.OPTIONAL,
    (AppStatus.IN_REVIEW, AppStatus.APPROVED): NoteRule.OPTIONAL,
    (AppStatus.IN_REVIEW, AppStatus.REJECTED): NoteRule.REASON,
    (AppStatus.SUBMITTED, AppStatus.WITHDRAWN): NoteRule.OPTIONAL,
    (AppStatus.IN_REVIEW, AppStatus.WITHDRAWN): NoteRule.OPTIONAL,
    (AppStatus.NEEDS_MORE, AppStatus.WITHDRAWN): NoteRule.OPTIONAL,
}

MAX_NOTE = 1000
MAX_STATEMENT = 2000
MAX_MATERIALS = 2000
MAX_COMMENT = 1000
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud over the phone
REFERENCE_LENGTH = 8


def allowed_targets(current: str) -> list[AppStatus]:
    """The statuses the secretariat may move an application to from `current`, in table order."""
    return [to for (frm, to) in TRANSITIONS if frm == current]


def check_transition(current: str, target: str, note: str) -> str:
    """Refuse a move the transition table does not allow or that lacks its message or reason; return the note."""
    rule = TRANSITIONS.get((AppStatus(current), AppStatus(target))) if target in {s.value for s in AppStatus} else None
    if rule is None:
        raise ValidationError("validation.transition_refused", field="status")
    text = bounded_text(note, field="note", limit=MAX_NOTE)
    if rule is NoteRule.MESSAGE and not text:
        raise ValidationError("validation.message_required", field="note")
    if rule is NoteRule.REASON and not text:
        raise ValidationError("validation.reason_required", field="note")
    return text


@dataclass(frozen=True)
class ApplicationInput:
    """An application as typed on the public form, by the secretariat, or read from an import file."""

    organisation: OrganisationInput
    applied_for: str = AppliedFor.MEMBER.value
    statement: str = ""
    materials: str = ""
    consent: bool = False


def validate_application(data: ApplicationInput, *, today: date) -> ApplicationInput:
    """Check every field; contact person and phone are required (the applicant is reached and looks the
    application up by them). Raise ValidationError naming the field on the first fault."""
    if not data.consent:
        raise ValidationError("validation.consent_required", field="consent")
    org = data.organisation
    # Status, join date, batch and the secretariat flag are the secretariat's to set on approval.
    org = replace(org, status="member", joined_on=None, batch="", is_secretariat=False)
    org = validate_organisation(org, today=today)
    if not org.contact_person:
        raise ValidationError("validation.required", field="contact_person")
    if not org.phone:
        raise ValidationError("validation.required", field="phone")
    if data.applied_for not in {a.value for a in AppliedFor}:
        raise ValidationError("validation.choice", field="applied_for")
    statement = bounded_text(data.statement, field="statement", limit=MAX_STATEMENT)
    materials = bounded_text(data.materials, field="materials", limit=MAX_MATERIALS)
    return replace(data, organisation=org, statement=statement, materials=materials)


# A value each field may safely take while the other fields are checked (see application_errors).
_SAFE = {
    "name": "x",
    "kind": "other",
    "province": "全国",
    "city": "",
    "credit_code": "91110000802100433B",
    "contact_person": "x",
    "phone": "13800138000",
    "email": "",
    "address": "",
    "website": "",
    "description": "",
}


def application_errors(data: ApplicationInput, *, today: date) -> list[ValidationError]:
    """Every faulty field at once (validate_application stops at the first), so a form can mark them all:
    each fault found is set aside by giving its field a safe value, and the check runs again."""
    errors: list[ValidationError] = []
    for _ in range(len(_SAFE) + 4):
        try:
            validate_application(data, today=today)
            return errors
        except ValidationError as exc:
            errors.append(exc)
            if exc.field == "consent":
                data = replace(data, consent=True)
            elif exc.field in ("statement", "materials"):
                blank: dict[str, Any] = {exc.field: ""}
                data = replace(data, **blank)
            elif exc.field == "applied_for":
                data = replace(data, applied_for=AppliedFor.MEMBER.value)
            elif exc.field in _SAFE:
                safe: dict[str, Any] = {exc.field: _SAFE[exc.field]}
                data = replace(data, organisation=replace(data.organisation, **safe))
            else:
                return errors
    return errors


def check_opinion(opinion: str, comment: str) -> str:
    """Refuse an opinion that is not 同意/反对/弃权 or a comment too long; return the comment cleaned."""
    if opinion not in {o.value for o in Opinion}:
        raise ValidationError("validation.choice", field="opinion")
    return bounded_text(comment, field="comment", limit=MAX_COMMENT)


def new_reference(year: int) -> str:
    """A reference number the applicant can quote, e.g. SQ2026-7KQ4MZ2P; random, so it cannot be guessed."""
    return f"SQ{year}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def normalise_reference(value: str) -> str:
    """A reference as typed (full-width, lower case, spaces, any dash) in its stored form SQ2026-XXXXXXXX."""
    text = normalise_identifier(value).replace("—", "").replace("－", "")[:30]
    if len(text) == 6 + REFERENCE_LENGTH and text.startswith("SQ"):
        return f"{text[:6]}-{text[6:]}"
    return text


@dataclass(frozen=True)
class IntakeLimits:
    """Submissions accepted by the public form per hour: from one client address and in total."""

    per_client: int = 10
    total: int = 300
    window_seconds: int = 3600
