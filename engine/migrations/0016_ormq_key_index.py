"""An index on django-q2's ORM queue by key and id: the priority broker (engine/priority.py)
looks at each priority's key in turn for its oldest task, which without it scans the whole
queue for every take, and for every empty key."""

from django.db import migrations

INDEX = "flowdeck_ormq_key_id"


class Migration(migrations.Migration):
    dependencies = [
        ("engine", "0015_run_priority"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunSQL(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON django_q_ormq ("key", id)',
            f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]
