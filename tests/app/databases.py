"""A fresh SQLite database as the app's DATABASE_URL for AppTest runs: migrated, with its first administrator."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from db.engine import get_engine, make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import users
from db.services.users import UserInfo
from domain.roles import ANONYMOUS

PASSWORD = "password 123"


@contextmanager
def app_database(folder: Path) -> Iterator[UserInfo]:
    """Point the app at a new database in `folder` and yield its administrator (admin1); the previous
    DATABASE_URL is back afterwards."""
    url = f"sqlite:///{folder / 'app.sqlite'}"
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_engine.cache_clear()
    try:
        upgrade_to_head(make_engine(url))
        with transaction(write=True) as session:
            users.create_first_admin(
                session=session,
                actor=ANONYMOUS,
                token=users.issue_setup_token(session=session),
                username="admin1",
                display_name="管理员",
                password=PASSWORD,
                password_repeat=PASSWORD,
            )
            admin = users.get_active_user(session=session, username="admin1")
        assert admin is not None
        yield admin
    finally:
        get_engine.cache_clear()
        if old is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = old
