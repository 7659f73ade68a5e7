import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """An entry's stored JSON (Message.json: "" for the rows stored before it
    and for rows inserted by other means; the readers render those), and
    created_at given by the group commit rather than by auto_now_add.

    The column is added by a plain ALTER TABLE on both databases: Django's
    own AddField remakes the table on SQLite, which would drop the search
    index's triggers (0008_search). created_at's default is Python's, so its
    change is to the model's state only."""

    dependencies = [
        ("rooms", "0013_notifystate_pending_due"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    """ALTER TABLE rooms_message ADD COLUMN "json" text DEFAULT '' NOT NULL""",
                    'ALTER TABLE rooms_message DROP COLUMN "json"',
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="message",
                    name="json",
                    field=models.TextField(blank=True, db_default="", default="", editable=False),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="created_at",
                    field=models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, editable=False
                    ),
                ),
            ],
        ),
    ]
