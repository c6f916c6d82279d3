"""The PAGES table: every screen with its path and the roles that may open it. Pure: no streamlit here."""

from dataclasses import dataclass

from domain.roles import ALL_ROLES, STAFF_ROLES, Role


@dataclass(frozen=True)
class PageSpec:
    """One screen: key, URL path ('' for home), file, title key, icon and who may open it."""

    key: str
    url_path: str
    file: str
    icon: str
    roles: frozenset[Role]
    public: bool = False

    @property
    def title_key(self) -> str:
        return f"page.{self.key}"


_READERS = frozenset({Role.ADMIN, Role.SECRETARIAT, Role.COUNCIL})

PAGES: tuple[PageSpec, ...] = (
    PageSpec("home", "", "pages/home.py", ":material/home:", ALL_ROLES),
    PageSpec("overview", "overview", "pages/overview.py", ":material/monitoring:", ALL_ROLES),
    PageSpec("applications", "applications", "pages/applications.py", ":material/assignment:", _READERS),
    PageSpec("members", "members", "pages/members.py", ":material/groups:", ALL_ROLES),
    PageSpec("council", "council", "pages/council.py", ":material/account_balance:", ALL_ROLES),
    PageSpec("calendar", "calendar", "pages/calendar.py", ":material/calendar_month:", ALL_ROLES),
    PageSpec("nominations", "nominations", "pages/nominations.py", ":material/military_tech:", _READERS),
    PageSpec("achievements", "achievements", "pages/achievements.py", ":material/emoji_events:", _READERS),
    PageSpec("benefits", "benefits", "pages/benefits.py", ":material/card_membership:", _READERS),
    PageSpec("users", "users", "pages/users.py", ":material/manage_accounts:", frozenset({Role.ADMIN})),
    PageSpec("audit", "audit", "pages/audit.py", ":material/history:", STAFF_ROLES),
    PageSpec("settings", "settings", "pages/settings.py", ":material/settings:", STAFF_ROLES),
    PageSpec("account", "account", "pages/account.py", ":material/person:", ALL_ROLES),
    PageSpec("apply", "apply", "pages/apply.py", ":material/edit_note:", frozenset(), public=True),
)
PAGES_BY_KEY = {p.key: p for p in PAGES}


def page(key: str) -> PageSpec:
    """The registered page with this key (KeyError for an unregistered one)."""
    return PAGES_BY_KEY[key]


def may_open(spec: PageSpec, role: Role | None) -> bool:
    """Whether a role (None: anonymous visitor) may open a page."""
    if spec.public:
        return True
    return role is not None and role in spec.roles


def menu_for(role: Role | None) -> list[PageSpec]:
    """The pages listed in this role's menu, in table order (public pages are reached by link, not menu)."""
    return [p for p in PAGES if not p.public and may_open(p, role)]
