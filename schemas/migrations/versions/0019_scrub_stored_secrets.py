"""scrub credentials from provider texts stored before dispatcher/redact.py

Provider answers that echo the request (sMsmode's error pages with ``accessToken=`` in the
URL, the bulk gateway's with ``password=``, Envoyer's ``<request>``, SMSFactor's
``<authentication>``) were stored as they came in ``batches.last_message``,
``recipients.provider_text``, ``delivery_events.raw_text`` and ``unmatched_reports.raw_text``,
and from there went out in the CSV export. New texts are scrubbed by the adapters and again
by persistence (dispatcher/redact.py); this revision cleans what is already stored.

A migration cannot know the secrets (they live in settings, and may have changed since), so
it masks what a credential looks like, not what it is: the value after a credential's name
in a query string or form body (``accessToken=...``, ``password=...``, ``login=...``, also
URL-encoded inside another parameter), between a credential's XML tags
(``<password>...</password>``), after a credential's JSON key, a callback URL's secret path
segment, an ``Authorization:`` header's value and the password of ``user:password@host``.
These are dispatcher/redact.py's name patterns, written here in PostgreSQL's regular
expressions (a migration must not change when the application's code does). A credential a
provider echoed bare, with no name beside it, cannot be told from other text and stays.

Each table is one set-wise UPDATE that rewrites only the rows whose text holds one of the
names and actually changes; it reads each of these tables once. ``batches.evidence`` (JSON,
from revision 0016, written since with masked texts) and the callback inbox (what providers
pushed to us, which carries no credential of ours) are left alone.

Nothing to undo: the masked values are gone, and a downgrade leaves them masked.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

NAMES = (
    "accessToken|access_token|password|passwd|pwd|pass|newPass|api_?key|secret|token|login|username"
)
SPACE = "[:space:]"

# (pattern, replacement) in PostgreSQL's advanced regular expressions, applied with 'gi'.
PATTERNS: tuple[tuple[str, str], ...] = (
    (rf"\m({NAMES})=[^&{SPACE}'\"<|]+", r"\1=***"),
    (rf"(%3F|%26)({NAMES})%3D((?!%26)[^&{SPACE}'\"<|])+", r"\1\2%3D***"),
    (rf"<({NAMES})([{SPACE}][^>]*)?>[^<]+</\1[{SPACE}]*>", r"<\1\2>***</\1>"),
    (rf"(\"({NAMES})\"[{SPACE}]*:[{SPACE}]*\")([^\"\\]|\\.)+\"", r'\1***"'),
    (rf"(/callbacks/[^/{SPACE}]+/[^/{SPACE}]+/)[^/{SPACE}?'\"]+", r"\1***"),
    (rf"(authorization:[{SPACE}]*[[:alnum:]_]+[{SPACE}]+)[^{SPACE}]+", r"\1***"),
    (rf"(//[^:/{SPACE}@]+:)[^@{SPACE}/]+@", r"\1***@"),
)
# Rows worth rewriting: a credential's name, a callback path, an Authorization header or a
# password in a URL somewhere in the text (a cheap first test before seven replacements).
CANDIDATE = rf"({NAMES})|/callbacks/|authorization:|//[^:/{SPACE}@]+:[^@{SPACE}/]+@"

COLUMNS = (
    ("batches", "last_message"),
    ("recipients", "provider_text"),
    ("delivery_events", "raw_text"),
    ("unmatched_reports", "raw_text"),
)


def scrubbed(column: str) -> str:
    """``column`` with every pattern applied, as an SQL expression on bind parameters."""
    expression = column
    for i in range(len(PATTERNS)):
        expression = f"regexp_replace({expression}, :p{i}, :r{i}, 'gi')"
    return expression


def statements() -> list[sa.TextClause]:
    """One UPDATE per stored text (also run by tests/integration/test_scrub_migration.py)."""
    params: dict[str, str] = {"candidate": CANDIDATE}
    for i, (pattern, replacement) in enumerate(PATTERNS):
        params[f"p{i}"], params[f"r{i}"] = pattern, replacement
    found = []
    for table, column in COLUMNS:
        sql = f"""
            UPDATE {table} AS t SET {column} = s.clean
            FROM (SELECT id, {scrubbed(column)} AS clean FROM {table}
                  WHERE {column} ~* :candidate) AS s
            WHERE t.id = s.id AND s.clean IS DISTINCT FROM t.{column}
        """  # noqa: S608 (table and column names are the constants above)
        found.append(sa.text(sql).bindparams(**params))
    return found


def upgrade() -> None:
    for statement in statements():
        op.execute(statement)


def downgrade() -> None:
    """Masked values cannot come back."""
