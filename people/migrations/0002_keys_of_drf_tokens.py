"""Django REST framework's tokens (one per user, the key in the clear, table authtoken_token)
become named ApiTokens holding the key's sha256: every key issued before goes on working, and
the clear keys leave the database. The authtoken app is no longer installed, so its table is
read with SQL, when it exists (a database created after this change never had it)."""

import hashlib
from datetime import UTC, datetime

from django.db import migrations
from django.utils.dateparse import parse_datetime

LEGACY_TABLE = "authtoken_token"


def move_keys(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("people", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {LEGACY_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        token = ApiToken.objects.create(
            user_id=user_id,
            name="cli",  # what manage.py flowdeck_token names the tokens it makes now
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            prefix=key[:8],
        )
        # auto_now_add set it to now; the key is as old as it was (SQLite gives text).
        when = parse_datetime(created) if isinstance(created, str) else created
        if isinstance(when, datetime):
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            ApiToken.objects.filter(pk=token.pk).update(created_at=when)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LEGACY_TABLE}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    # Backwards: the hashes cannot give the keys back; the tokens are left as they are.
    operations = [migrations.RunPython(move_keys, migrations.RunPython.noop)]
