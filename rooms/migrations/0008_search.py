"""Full-text search (docs/search.md): the database's own engine, kept current
by the database itself, so every write path updates it.

PostgreSQL: a STORED generated column `search` (the body's tsvector) and a
partial GIN index on the searchable rows. The model does not know the
column: Django names the columns of its INSERTs and UPDATEs.

SQLite: an FTS5 table with external content (the message table), kept by
triggers that index text messages not deleted, and filled here with the
rows that exist. A later migration that remakes rooms_message on SQLite
drops these triggers: tests/search/test_engines.py checks they exist after every
migration.

The SQL is written out here, not imported, so this migration keeps doing
what it did whatever rooms/search.py becomes.
"""

from django.db import migrations

SEARCHABLE = "kind = 'text' AND NOT deleted"

POSTGRES = [
    (
        "ALTER TABLE rooms_message ADD COLUMN search tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, body)) STORED",
        "ALTER TABLE rooms_message DROP COLUMN IF EXISTS search",
    ),
    (
        f"CREATE INDEX rooms_message_search ON rooms_message USING gin (search) WHERE {SEARCHABLE}",
        "DROP INDEX IF EXISTS rooms_message_search",
    ),
]

SQLITE = [
    (
        "CREATE VIRTUAL TABLE rooms_message_fts USING fts5(body, content='rooms_message', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
        "DROP TABLE IF EXISTS rooms_message_fts",
    ),
    (
        """CREATE TRIGGER rooms_message_fts_insert AFTER INSERT ON rooms_message
        WHEN new.kind = 'text' AND NOT new.deleted BEGIN
            INSERT INTO rooms_message_fts(rowid, body) VALUES (new.id, new.body);
        END""",
        "DROP TRIGGER IF EXISTS rooms_message_fts_insert",
    ),
    # External content: FTS5 takes a row out of the index by the values it
    # is given, which must be the ones that were indexed.
    (
        """CREATE TRIGGER rooms_message_fts_delete AFTER DELETE ON rooms_message
        WHEN old.kind = 'text' AND NOT old.deleted BEGIN
            INSERT INTO rooms_message_fts(rooms_message_fts, rowid, body)
                VALUES ('delete', old.id, old.body);
        END""",
        "DROP TRIGGER IF EXISTS rooms_message_fts_delete",
    ),
    # One trigger, so its two statements run in this order: out with the old
    # text if it was indexed, in with the new if the row still qualifies.
    (
        """CREATE TRIGGER rooms_message_fts_update AFTER UPDATE OF body, kind, deleted
        ON rooms_message BEGIN
            INSERT INTO rooms_message_fts(rooms_message_fts, rowid, body)
                SELECT 'delete', old.id, old.body WHERE old.kind = 'text' AND NOT old.deleted;
            INSERT INTO rooms_message_fts(rowid, body)
                SELECT new.id, new.body WHERE new.kind = 'text' AND NOT new.deleted;
        END""",
        "DROP TRIGGER IF EXISTS rooms_message_fts_update",
    ),
    (
        "INSERT INTO rooms_message_fts(rowid, body) "
        f"SELECT id, body FROM rooms_message WHERE {SEARCHABLE}",
        None,  # dropping the table takes its rows
    ),
]


def _statements(schema_editor):
    return {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor, [])


def install(apps, schema_editor):
    for forwards, _ in _statements(schema_editor):
        schema_editor.execute(forwards)


def uninstall(apps, schema_editor):
    for _, backwards in reversed(_statements(schema_editor)):
        if backwards is not None:
            schema_editor.execute(backwards)


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0007_direct_conversations"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
