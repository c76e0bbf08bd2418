"""Recompute the stored MinHash signatures and LSH buckets for the new layout.

The similarity index moved from 64 permutations in 16 bands x 4 rows to 96 permutations in
32 bands x 3 rows (and new hash functions), so a pair at the 0.5 threshold is found with
probability 0.986 instead of 0.64. Buckets stored under the old layout can never match a new
text's buckets: every indexed narrative is fingerprinted again here.

Runs in the migration's transaction with every school visible to the row-level security policy
(the setting is transaction-local and reset at the end).
"""
from django.db import migrations


def recompute(apps, schema_editor):
    from submissions import similarity
    from submissions.narrative import join_sections

    Narrative = apps.get_model("submissions", "Narrative")
    NarrativeBand = apps.get_model("submissions", "NarrativeBand")
    School = apps.get_model("tenancy", "School")
    connection = schema_editor.connection
    ids = ",".join(str(i) for i in School.objects.values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.school_ids', %s, true)", [ids])
    indexed = (Narrative.objects.filter(id__in=NarrativeBand.objects.values("narrative_id"))
               .select_related("submission").order_by("id"))
    for narrative in indexed.iterator(chunk_size=200):
        fp = similarity.Fingerprint.of(join_sections(narrative.sections))
        Narrative.objects.filter(pk=narrative.pk).update(signature=fp.signature, fingerprint_digest=narrative.digest)
        NarrativeBand.objects.filter(narrative_id=narrative.pk).delete()
        NarrativeBand.objects.bulk_create([
            NarrativeBand(school_id=narrative.school_id, narrative_id=narrative.pk,
                          report_type_id=narrative.submission.report_type_id, band=i, bucket=key)
            for i, key in enumerate(fp.bands)
        ])
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.school_ids', '', true)")


class Migration(migrations.Migration):

    dependencies = [
        ("submissions", "0002_package_figures_district_export"),
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(recompute, migrations.RunPython.noop),
    ]
