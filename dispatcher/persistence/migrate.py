"""Apply the Alembic migrations in ``schemas/migrations`` from code (CLI, demo, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import schemas
from dispatcher.persistence.database import Database

MIGRATIONS = Path(schemas.__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.begin() as conn:
        config = alembic_config(db)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
