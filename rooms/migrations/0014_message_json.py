import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """An entry's stored JSON (Message.json, "" for the rows stored before
    it and for rows inserted by other means: the readers render those), and created_at given by the group commit
    rather than by auto_now_add: a Python-side default either way, so the
    database's schema does not change for it (state only: no table rebuild
    on SQLite)."""

    dependencies = [
        ("rooms", "0013_notifystate_pending_due"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="json",
            field=models.TextField(blank=True, db_default="", default="", editable=False),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
