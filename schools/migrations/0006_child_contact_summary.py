"""The per-child, per-semester contact summary, kept by triggers on the contacts table.

Statement-level triggers with transition tables: a bulk INSERT of millions of contacts costs one
grouped upsert, not one per row. An insert ORs the new kinds into the mask; an update (only of
rows whose school, semester, child or kind changed) or a delete recomputes the touched keys from
the contacts that remain, and drops a key left with none. Triggers run as the writing role, so
row-level security checks the summary rows like the contacts (same school).
"""
import django.db.models.deletion
from django.db import migrations, models

# Must equal compliance.metrics.sql.CONTACT_KIND_BITS (tests/compliance/test_contact_summary.py).
KIND_BITS = {"home_visit": 1, "talk": 2, "guardian_contact": 4, "letter": 8}
BIT = "(CASE kind " + " ".join(f"WHEN '{k}' THEN {b}" for k, b in KIND_BITS.items()) + " ELSE 0 END)::smallint"

# The (school, semester, child) keys a statement touched: every deleted row's; an updated row's old
# and new key when its school, semester, child or kind changed (a notes edit touches nothing).
DELETED = "SELECT DISTINCT school_id, semester_id, child_id FROM old_rows"
_MOVED = ("FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE (o.school_id, o.semester_id, o.child_id, o.kind) "
          "IS DISTINCT FROM (n.school_id, n.semester_id, n.child_id, n.kind)")
CHANGED = f"SELECT o.school_id, o.semester_id, o.child_id {_MOVED} UNION SELECT n.school_id, n.semester_id, n.child_id {_MOVED}"
_SAME_KEY = "{a}.school_id = {b}.school_id AND {a}.semester_id = {b}.semester_id AND {a}.child_id = {b}.child_id"


def _refresh(op: str, keys: str) -> str:
    """Recompute the touched keys from the contacts left: upsert those with contacts, drop the rest."""
    return f"""
CREATE FUNCTION schools_contact_summary_refresh_{op}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schools_childcontactsummary (school_id, semester_id, child_id, mask)
    SELECT c.school_id, c.semester_id, c.child_id, bit_or({BIT.replace("kind", "c.kind")})
    FROM schools_carecontact c JOIN ({keys}) k ON {_SAME_KEY.format(a="c", b="k")}
    GROUP BY 1, 2, 3
    ON CONFLICT (school_id, semester_id, child_id) DO UPDATE SET mask = EXCLUDED.mask
    WHERE schools_childcontactsummary.mask <> EXCLUDED.mask;
    DELETE FROM schools_childcontactsummary s USING ({keys}) k
    WHERE {_SAME_KEY.format(a="s", b="k")}
      AND NOT EXISTS (SELECT 1 FROM schools_carecontact c WHERE {_SAME_KEY.format(a="c", b="k")});
    RETURN NULL;
END $$;
"""


FORWARD = f"""
CREATE FUNCTION schools_contact_summary_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO schools_childcontactsummary (school_id, semester_id, child_id, mask)
    SELECT school_id, semester_id, child_id, bit_or({BIT}) FROM new_rows GROUP BY 1, 2, 3
    ON CONFLICT (school_id, semester_id, child_id)
    DO UPDATE SET mask = schools_childcontactsummary.mask | EXCLUDED.mask
    WHERE schools_childcontactsummary.mask <> (schools_childcontactsummary.mask | EXCLUDED.mask);
    RETURN NULL;
END $$;

{_refresh('delete', DELETED)}
{_refresh('update', CHANGED)}
CREATE TRIGGER schools_contact_summary_insert AFTER INSERT ON schools_carecontact
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION schools_contact_summary_add();
CREATE TRIGGER schools_contact_summary_update AFTER UPDATE ON schools_carecontact
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION schools_contact_summary_refresh_update();
CREATE TRIGGER schools_contact_summary_delete AFTER DELETE ON schools_carecontact
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION schools_contact_summary_refresh_delete();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS schools_contact_summary_delete ON schools_carecontact;
DROP TRIGGER IF EXISTS schools_contact_summary_update ON schools_carecontact;
DROP TRIGGER IF EXISTS schools_contact_summary_insert ON schools_carecontact;
DROP FUNCTION IF EXISTS schools_contact_summary_refresh_update();
DROP FUNCTION IF EXISTS schools_contact_summary_refresh_delete();
DROP FUNCTION IF EXISTS schools_contact_summary_add();
"""

# The owner role is bound by row-level security too: the backfill names every school for itself,
# inside the migration's transaction only.
BACKFILL = f"""
SELECT set_config('app.school_ids', coalesce((SELECT string_agg(id::text, ',') FROM tenancy_school), ''), true);
INSERT INTO schools_childcontactsummary (school_id, semester_id, child_id, mask)
SELECT school_id, semester_id, child_id, bit_or({BIT}) FROM schools_carecontact GROUP BY 1, 2, 3;
SELECT set_config('app.school_ids', '', true);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('schools', '0005_refusal_clears_register_fields'),
        ('tenancy', '0009_approve_reports_permission'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChildContactSummary',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mask', models.SmallIntegerField()),
                ('child', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='schools.child')),
                ('school', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.school', verbose_name='school')),
                ('semester', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='schools.semester')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('school', 'semester', 'child'), name='contact_summary_key')],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
