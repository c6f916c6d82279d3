"""Roles of the platform's users and the actor that calls a service."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SECRETARIAT = "secretariat"
    COUNCIL = "council"
    VIEWER = "viewer"


ALL_ROLES: frozenset[Role] = frozenset(Role)
STAFF_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.SECRETARIAT})
# Who reads the network's records beyond the public directory and calendar (DESIGN.md: not the partner demos).
RECORD_READERS: frozenset[Role] = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL})


@dataclass(frozen=True)
class Actor:
    """Who is calling a service: a logged-in user, an anonymous visitor (role None) or the system."""

    user_id: int | None
    username: str
    role: Role | None
    organisation_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


ANONYMOUS = Actor(user_id=None, username="", role=None)
