"""Activity.photographed: whether an activity has at least one photo, kept by triggers on the
evidence table.

Statement-level triggers with transition tables, as for the contact summary (0006): a bulk insert
of evidence costs one UPDATE. Each recomputes the flag of the activities the statement touched (a
new photo, a deleted one, an evidence row moved to another activity or changed kind) from the
evidence that remains, and writes only rows whose flag changes. Triggers run as the writing role,
so row-level security checks the activities like the evidence (same school).
"""
from django.db import migrations, models

PHOTOGRAPHED = ("EXISTS (SELECT 1 FROM schools_evidence e WHERE e.activity_id = a.id AND e.kind = 'photo')")


def _refresh(op: str, touched: str) -> str:
    return f"""
CREATE FUNCTION schools_activity_photographed_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE schools_activity a SET photographed = {PHOTOGRAPHED}
    WHERE a.id IN ({touched}) AND a.photographed IS DISTINCT FROM {PHOTOGRAPHED};
    RETURN NULL;
END $$;
"""


NEW = "SELECT activity_id FROM new_rows WHERE activity_id IS NOT NULL AND kind = 'photo'"
OLD = "SELECT activity_id FROM old_rows WHERE activity_id IS NOT NULL AND kind = 'photo'"
FORWARD = f"""
{_refresh('insert', NEW)}
{_refresh('delete', OLD)}
{_refresh('update', f"{OLD} UNION {NEW}")}
CREATE TRIGGER schools_activity_photographed_insert AFTER INSERT ON schools_evidence
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION schools_activity_photographed_insert();
CREATE TRIGGER schools_activity_photographed_update AFTER UPDATE ON schools_evidence
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION schools_activity_photographed_update();
CREATE TRIGGER schools_activity_photographed_delete AFTER DELETE ON schools_evidence
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION schools_activity_photographed_delete();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS schools_activity_photographed_delete ON schools_evidence;
DROP TRIGGER IF EXISTS schools_activity_photographed_update ON schools_evidence;
DROP TRIGGER IF EXISTS schools_activity_photographed_insert ON schools_evidence;
DROP FUNCTION IF EXISTS schools_activity_photographed_update();
DROP FUNCTION IF EXISTS schools_activity_photographed_delete();
DROP FUNCTION IF EXISTS schools_activity_photographed_insert();
"""

# The owner role is bound by row-level security too: the backfill names every school for itself,
# inside the migration's transaction only.
BACKFILL = f"""
SELECT set_config('app.school_ids', coalesce((SELECT string_agg(id::text, ',') FROM tenancy_school), ''), true);
UPDATE schools_activity a SET photographed = true WHERE {PHOTOGRAPHED};
SELECT set_config('app.school_ids', '', true);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('schools', '0006_child_contact_summary'),
    ]

    operations = [
        migrations.AddField(
            model_name='activity',
            name='photographed',
            field=models.BooleanField(db_default=False, editable=False),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
