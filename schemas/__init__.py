"""Database schema (SQLAlchemy Core tables, the Alembic source), migrations and message schemas."""
