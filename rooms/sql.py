"""For the few statements the hot paths write in plain SQL (the group
commit's, the backfill's read): a model field's column, quoted for the
database in use, so the SQL follows the models' names."""

from django.db import connection


def column(model, field: str) -> str:
    """`model`'s column for `field` (a field name: "room" for room_id)."""
    return connection.ops.quote_name(model._meta.get_field(field).column)


def placeholders(values) -> str:
    """The "%s, %s, …" of an IN list of `values` ("" for none)."""
    return ", ".join(["%s"] * len(values))
