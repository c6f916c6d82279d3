"""The data-version stamp: a write through one engine (one replica) is seen through another."""

from sqlalchemy.orm import Session

from db.engine import make_engine, transaction
from db.migrate import upgrade_to_head
from db.services import data_version, organisations, users
from domain.roles import ANONYMOUS, Actor, Role
from tests.conftest import TODAY, org_input


def test_a_write_on_one_replica_changes_the_stamp_another_replica_reads(fresh_engine):
    upgrade_to_head(fresh_engine)
    other = make_engine(fresh_engine.url.render_as_string(hide_password=False))
    try:
        with Session(other) as reader:
            seen = data_version.stamp(session=reader)
            seen_orgs = data_version.stamp(session=reader, topics=("organisation",))
        with transaction(write=True, engine=fresh_engine) as session:
            token = users.issue_setup_token(session=session)
            admin_id = users.create_first_admin(session=session, actor=ANONYMOUS, token=token, username="root",
                                                display_name="x", password="password 123",
                                                password_repeat="password 123")  # fmt: skip
        with Session(other) as reader:
            assert data_version.stamp(session=reader) > seen
            assert data_version.unchanged_since(session=reader, seen=seen_orgs, topics=("organisation",))
        with transaction(write=True, engine=fresh_engine) as session:
            organisations.create_organisation(session=session, actor=Actor(admin_id, "root", Role.ADMIN),
                                              data=org_input(), today=TODAY)  # fmt: skip
        with Session(other) as reader:
            assert not data_version.unchanged_since(session=reader, seen=seen_orgs, topics=("organisation",))
    finally:
        other.dispose()


def test_a_rolled_back_write_leaves_the_stamp_alone(session, admin):
    seen = data_version.stamp(session=session)
    try:
        with session.begin_nested():
            organisations.create_organisation(session=session, actor=admin, data=org_input(), today=TODAY)
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert data_version.stamp(session=session) == seen
