"""The consent log's indexes for newest-first paging by key and for its filters.

The log is the largest table (tens of millions of rows) and every index costs each consent write one more
B-tree insert, so this migration adds no index in number: it swaps two the log had for wider ones, and
drops a third that the wider ones make redundant (a write now maintains one index fewer).

- ``(created_at)`` becomes ``(created_at, id)``. Staff page the log newest first, to any depth, by key
  ("older than this row": ``(created_at, id) < (t, n)``) instead of OFFSET, which reads and drops every row
  before the page. With the id in the index, a page is one backward range scan of 100 entries, ties of the
  same instant included; the date range filter (``created_at >= … AND created_at < …``) uses it too.
- ``(property, created_at)`` becomes ``(property, created_at, id)``: the same for one website's log.
- The website's own foreign-key index ``(property)`` goes: it is the leading column of the one above, which
  serves every lookup by website (and the check that a website has records before it may be deleted).
- The consent id's own index stays: the search box looks a record up by exact consent id.

Method and GPC get no index: each has a handful of values, so a filter on them reads the newest rows through
the time index and keeps one in four or so; an index would serve no page faster and slow every write.

On PostgreSQL the indexes are built and dropped CONCURRENTLY, so consent writes go on while they build (a
plain CREATE INDEX would block inserts for the whole build, tens of seconds at ten million rows). The new
ones exist before the old ones go, so no query is ever left without an index.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
import django.db.models.deletion
from django.db import migrations, models


class AddIndexOnline(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (the embedded SQLite default)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


def _drop_indexes(schema_editor, model, columns: list[str]) -> None:
    # Only the plain index on exactly these columns (not the new, wider ones).
    for name in schema_editor._constraint_names(model, columns, index=True, unique=False, primary_key=False):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        else:
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def drop_old_indexes(apps, schema_editor):
    model = apps.get_model("consent", "ConsentRecord")
    _drop_indexes(schema_editor, model, ["created_at"])
    _drop_indexes(schema_editor, model, ["property_id", "created_at"])
    _drop_indexes(schema_editor, model, ["property_id"])


def recreate_old_indexes(apps, schema_editor):
    model = apps.get_model("consent", "ConsentRecord")
    schema_editor.add_index(model, models.Index(fields=["created_at"], name="consent_con_created_8c6f8a_idx"))
    schema_editor.add_index(
        model, models.Index(fields=["property", "created_at"], name="consent_con_propert_408e95_idx")
    )
    schema_editor.add_index(model, models.Index(fields=["property"], name="consent_consentrecord_property_id_66919c75"))


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("consent", "0006_consent_daily_summary")]

    operations = [
        AddIndexOnline(
            model_name="consentrecord",
            index=models.Index(fields=["created_at", "id"], name="consent_log_time_id"),
        ),
        AddIndexOnline(
            model_name="consentrecord",
            index=models.Index(fields=["property", "created_at", "id"], name="consent_log_site_time_id"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="consentrecord", name="consent_con_propert_408e95_idx"),
                migrations.AlterField(
                    model_name="consentrecord",
                    name="property",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="records",
                        to="consent.property",
                    ),
                ),
                migrations.AlterField(
                    model_name="consentrecord",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True, verbose_name="time"),
                ),
            ],
            database_operations=[migrations.RunPython(drop_old_indexes, recreate_old_indexes)],
        ),
    ]
