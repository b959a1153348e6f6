"""Database schema: SQLAlchemy Core tables (the Alembic source) and migrations."""
