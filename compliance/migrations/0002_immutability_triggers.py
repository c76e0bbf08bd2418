"""Database-level guards: published checklist versions and locked assessments cannot change.

The services refuse such writes with a clear message and the models refuse save()/delete(); these
triggers catch whatever bypasses both (queryset.update(), bulk operations, raw SQL, another client).
"""
from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION compliance_version_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'checklist version % is published and immutable', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_version_immutable
    BEFORE UPDATE OR DELETE ON compliance_checklistversion
    FOR EACH ROW EXECUTE FUNCTION compliance_version_immutable();

CREATE OR REPLACE FUNCTION compliance_version_part_immutable() RETURNS trigger AS $$
DECLARE
    st text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status INTO st FROM compliance_checklistversion WHERE id = OLD.version_id;
        IF st = 'published' THEN
            RAISE EXCEPTION '% % belongs to published checklist version % and is immutable',
                TG_TABLE_NAME, OLD.code, OLD.version_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status INTO st FROM compliance_checklistversion WHERE id = NEW.version_id;
        IF st = 'published' THEN
            RAISE EXCEPTION 'cannot add % % to published checklist version %',
                TG_TABLE_NAME, NEW.code, NEW.version_id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_section_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON compliance_checklistsection
    FOR EACH ROW EXECUTE FUNCTION compliance_version_part_immutable();
CREATE TRIGGER compliance_item_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON compliance_checklistitem
    FOR EACH ROW EXECUTE FUNCTION compliance_version_part_immutable();

-- A locked assessment: the row itself never changes again.
CREATE OR REPLACE FUNCTION compliance_assessment_locked() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'locked' THEN
        RAISE EXCEPTION 'assessment % is locked', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_assessment_locked
    BEFORE UPDATE OR DELETE ON compliance_assessment
    FOR EACH ROW EXECUTE FUNCTION compliance_assessment_locked();

-- Rows belonging to an assessment (directly, or through a snapshot): refused once it is locked.
-- The lock snapshot is written before the status flips, so it passes.
CREATE OR REPLACE FUNCTION compliance_assessment_rows_locked() RETURNS trigger AS $$
DECLARE
    r jsonb;
    aid bigint;
    st text;
BEGIN
    FOREACH r IN ARRAY ARRAY[
        CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
        CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END
    ] LOOP
        CONTINUE WHEN r IS NULL;
        IF TG_ARGV[0] = 'snapshot' THEN
            SELECT assessment_id INTO aid FROM compliance_snapshot WHERE id = (r->>'snapshot_id')::bigint;
        ELSE
            aid := (r->>'assessment_id')::bigint;
        END IF;
        SELECT status INTO st FROM compliance_assessment WHERE id = aid;
        IF st = 'locked' THEN
            RAISE EXCEPTION 'assessment % is locked: % cannot change', aid, TG_TABLE_NAME
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_manualscore_locked
    BEFORE INSERT OR UPDATE OR DELETE ON compliance_manualscore
    FOR EACH ROW EXECUTE FUNCTION compliance_assessment_rows_locked('assessment');
CREATE TRIGGER compliance_snapshot_locked
    BEFORE INSERT OR UPDATE OR DELETE ON compliance_snapshot
    FOR EACH ROW EXECUTE FUNCTION compliance_assessment_rows_locked('assessment');
CREATE TRIGGER compliance_snapshotschool_locked
    BEFORE INSERT OR UPDATE OR DELETE ON compliance_snapshotschool
    FOR EACH ROW EXECUTE FUNCTION compliance_assessment_rows_locked('snapshot');
CREATE TRIGGER compliance_snapshotitemscore_locked
    BEFORE INSERT OR UPDATE OR DELETE ON compliance_snapshotitemscore
    FOR EACH ROW EXECUTE FUNCTION compliance_assessment_rows_locked('snapshot');
CREATE TRIGGER compliance_manualscorechange_locked
    BEFORE INSERT ON compliance_manualscorechange
    FOR EACH ROW EXECUTE FUNCTION compliance_assessment_rows_locked('assessment');

-- The audit trail is append-only.
CREATE OR REPLACE FUNCTION compliance_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER compliance_manualscorechange_append_only
    BEFORE UPDATE OR DELETE ON compliance_manualscorechange
    FOR EACH ROW EXECUTE FUNCTION compliance_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS compliance_manualscorechange_append_only ON compliance_manualscorechange;
DROP TRIGGER IF EXISTS compliance_manualscorechange_locked ON compliance_manualscorechange;
DROP TRIGGER IF EXISTS compliance_snapshotitemscore_locked ON compliance_snapshotitemscore;
DROP TRIGGER IF EXISTS compliance_snapshotschool_locked ON compliance_snapshotschool;
DROP TRIGGER IF EXISTS compliance_snapshot_locked ON compliance_snapshot;
DROP TRIGGER IF EXISTS compliance_manualscore_locked ON compliance_manualscore;
DROP TRIGGER IF EXISTS compliance_assessment_locked ON compliance_assessment;
DROP TRIGGER IF EXISTS compliance_item_immutable ON compliance_checklistitem;
DROP TRIGGER IF EXISTS compliance_section_immutable ON compliance_checklistsection;
DROP TRIGGER IF EXISTS compliance_version_immutable ON compliance_checklistversion;
DROP FUNCTION IF EXISTS compliance_append_only();
DROP FUNCTION IF EXISTS compliance_assessment_rows_locked();
DROP FUNCTION IF EXISTS compliance_assessment_locked();
DROP FUNCTION IF EXISTS compliance_version_part_immutable();
DROP FUNCTION IF EXISTS compliance_version_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
