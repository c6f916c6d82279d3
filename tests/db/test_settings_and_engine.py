"""Settings with versions, and the engine's database-specific setup."""

import pytest
from sqlalchemy import text

from db.engine import make_engine, normalise_url
from db.services import settings
from domain.errors import PermissionDenied, StaleRecord, ValidationError
from domain.roles import Role


def test_a_setting_has_its_default_until_written(session):
    assert settings.get_setting(session=session, key="intake_open") is False


def test_staff_change_a_setting_and_a_stale_change_is_refused(session, make_actor):
    staff = make_actor(Role.SECRETARIAT)
    version = settings.set_setting(session=session, actor=staff, key="intake_open", value=True, expected_version=0)
    assert settings.get_setting(session=session, key="intake_open") is True
    with pytest.raises(StaleRecord):
        settings.set_setting(session=session, actor=staff, key="intake_open", value=False, expected_version=0)
    settings.set_setting(session=session, actor=staff, key="intake_open", value=False, expected_version=version)
    assert settings.get_setting(session=session, key="intake_open") is False


def test_unknown_settings_and_wrong_types_are_refused(session, admin):
    with pytest.raises(ValidationError):
        settings.set_setting(session=session, actor=admin, key="anything", value=1, expected_version=0)
    with pytest.raises(ValidationError):
        settings.set_setting(session=session, actor=admin, key="intake_open", value="yes", expected_version=0)


def test_council_users_cannot_change_settings(session, make_actor):
    with pytest.raises(PermissionDenied):
        settings.set_setting(
            session=session, actor=make_actor(Role.COUNCIL), key="intake_open", value=True, expected_version=0
        )


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_timestamps_come_back_time_zone_aware(session, admin):
    from db.models import User

    user = session.get(User, admin.user_id)
    assert user.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///data/app.sqlite", "sqlite:///data/app.sqlite"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given, expected):
    assert normalise_url(given) == expected
