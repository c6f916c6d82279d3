"""The benchmark's data generator (bench/generate.py): deterministic, obeying every constraint of the database,
and leaving the overview's roll-ups equal to a full recount — checked at a small scale on both databases."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.generate import generate
from db.migrate import upgrade_to_head
from db.services import rollups
from db.services.access import write_scope

TABLES = ("organisations", "activities", "signups", "applications", "council_opinions", "meetings", "council_terms")


def _counts(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return {name: int(session.scalar(text(f"SELECT count(*) FROM {name}"))) for name in TABLES}


def test_the_generator_fills_every_table_at_scale_and_the_roll_ups_equal_a_recount(fresh_engine):
    upgrade_to_head(fresh_engine)
    counts = generate(engine=fresh_engine, scale=0.002, seed=7)
    stored = _counts(fresh_engine)
    assert (stored["organisations"], stored["activities"]) == (40, 400)
    assert stored["signups"] == counts.signups and 1_500 <= counts.signups <= 2_000
    assert stored["applications"] == 100 and stored["council_terms"] == 10 and stored["meetings"] >= 12
    with Session(fresh_engine) as session:
        # no unit signs up twice for an activity; outcomes within volunteers x length
        assert session.scalar(
            text("SELECT count(*) FROM (SELECT activity_id, organisation_id FROM signups "
                 "GROUP BY activity_id, organisation_id HAVING count(*) > 1) t")
        ) == 0  # fmt: skip
        months = int(session.scalar(text("SELECT count(DISTINCT month) FROM activity_rollups")))
        assert months >= 58, "five years of activities"
        kept = {tuple(r) for r in session.execute(text("SELECT * FROM activity_rollups"))}
    with Session(fresh_engine) as session, session.begin(), write_scope("test"):
        rollups.rebuild(session=session)
    with Session(fresh_engine) as session:
        assert {tuple(r) for r in session.execute(text("SELECT * FROM activity_rollups"))} == kept


def test_the_same_seed_gives_the_same_data(backend, tmp_path):  # type: ignore[no-untyped-def]
    from db.engine import make_engine

    if backend != "sqlite":  # one database suffices for determinism
        return
    tables = []
    for n in range(2):
        engine = make_engine(f"sqlite:///{tmp_path / f'same{n}.sqlite'}")
        upgrade_to_head(engine)
        generate(engine=engine, scale=0.001, seed=11)
        with Session(engine) as session:
            tables.append(
                [
                    tuple(r)
                    for r in session.execute(text("SELECT title, starts_at, organiser_id FROM activities ORDER BY id"))
                ]
            )
        engine.dispose()
    assert tables[0] == tables[1]
