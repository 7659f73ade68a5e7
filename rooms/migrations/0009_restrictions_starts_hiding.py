"""Read-only that outlives membership (RoomRestriction, one for every
read-only member already), the table ROOMS_CREATE_RATE counts (RecentStart),
a hidden direct conversation's head (Membership.hidden_at_seq); and the
edits of messages deleted before deletion emptied them lose their bodies."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def restrict_read_only_members(apps, schema_editor):
    Membership = apps.get_model("rooms", "Membership")
    RoomRestriction = apps.get_model("rooms", "RoomRestriction")
    read_only = Membership.objects.filter(role="read_only").values_list("room_id", "user_id")
    RoomRestriction.objects.bulk_create(
        [RoomRestriction(room_id=room_id, user_id=user_id) for room_id, user_id in read_only],
        ignore_conflicts=True,
    )


def forget_edits_of_deleted_messages(apps, schema_editor):
    Message = apps.get_model("rooms", "Message")
    deleted = Message.objects.filter(
        room_id=models.OuterRef("room_id"),
        seq=models.OuterRef("target"),
        kind__in=["text", "system"],
        deleted=True,
    )
    Message.objects.filter(kind="edit").exclude(body="").filter(models.Exists(deleted)).update(
        body=""
    )


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0008_search"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="hidden_at_seq",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name="RecentStart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("room", "Room"),
                            ("direct", "Direct conversation"),
                            ("invite", "Invitation"),
                        ],
                        max_length=8,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["user", "created_at"], name="recentstart_user_created")
                ],
            },
        ),
        migrations.CreateModel(
            name="RoomRestriction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="rooms.room",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("room", "user"), name="roomrestriction_unique")
                ],
            },
        ),
        migrations.RunPython(restrict_read_only_members, migrations.RunPython.noop),
        migrations.RunPython(forget_edits_of_deleted_messages, migrations.RunPython.noop),
    ]
