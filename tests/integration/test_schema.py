"""The migrations build exactly the tables that schemas/tables.py describes, and unwind."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.persistence.database import Database
from dispatcher.persistence.migrate import alembic_config, upgrade
from schemas.tables import metadata

pytestmark = pytest.mark.integration


def test_migrated_database_matches_the_table_definitions(servers: ServerUrls) -> None:
    with fresh_database(servers.admin_url, prefix="dispatcher_schema") as url:
        db = Database(url, pool_size=1)
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        db.dispose()
    assert differences == []


def test_migrations_downgrade_to_nothing_and_upgrade_again(servers: ServerUrls) -> None:
    with fresh_database(servers.admin_url, prefix="dispatcher_schema") as url:
        db = Database(url, pool_size=1)
        with db.engine.begin() as conn:
            config = alembic_config(db)
            config.attributes["connection"] = conn
            command.downgrade(config, "base")
        upgrade(db)
        with db.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() is not None
        db.dispose()
