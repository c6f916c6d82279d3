"""Persistence: models, engine, migrations and the services that are the only place SQL is written."""
