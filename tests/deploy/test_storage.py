"""Where files are stored: S3 (django-storages) when STORAGE_S3_BUCKET is set, else the filesystem;
and no application code asks a storage for a local path, which S3 does not have.

The settings are imported in a subprocess with the variables set; S3Storage is instantiated but
never connects (boto3 opens no connection until a file is read or written)."""
from __future__ import annotations

import ast
import json

import pytest

from .support import ROOT, production_env, run_python

PROBE = r"""
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import default_storage
s = default_storage
print(json.dumps({
    "config": settings.STORAGES["default"],
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
    "class": f"{s.__class__.__module__}.{s.__class__.__name__}",  # the lazy object reports the real class
    "attrs": {k: getattr(s, k, None) for k in ("bucket_name", "endpoint_url", "region_name", "access_key", "secret_key",
                                              "default_acl", "querystring_auth", "file_overwrite", "addressing_style",
                                              "location", "max_memory_size")},
}))
"""

S3_ENV = {
    "STORAGE_S3_BUCKET": "liushou-evidence",
    "STORAGE_S3_ENDPOINT_URL": "http://127.0.0.1:1",  # nothing listens: any connection attempt would fail
    "STORAGE_S3_REGION": "cn-north-1",
    "STORAGE_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "STORAGE_S3_SECRET_ACCESS_KEY": "secret-example",
    "STORAGE_S3_ADDRESSING_STYLE": "path",
}


def probe(module: str, **env: str | None) -> dict:
    out = run_python(["-c", PROBE], production_env(DJANGO_SETTINGS_MODULE=module, **env))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["config.settings.production", "config.settings.local"])
def test_bucket_in_the_environment_selects_s3_with_private_unique_files(module):
    got = probe(module, **S3_ENV)
    assert got["config"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert got["class"].endswith("S3Storage")
    attrs = got["attrs"]
    assert attrs["bucket_name"] == "liushou-evidence"
    assert attrs["endpoint_url"] == "http://127.0.0.1:1"
    assert attrs["region_name"] == "cn-north-1"
    assert (attrs["access_key"], attrs["secret_key"]) == ("AKIDEXAMPLE", "secret-example")
    assert attrs["addressing_style"] == "path"
    # Children's photos: private objects, signed URLs only, never an existing file replaced by save().
    assert attrs["default_acl"] == "private"
    assert attrs["querystring_auth"] is True
    assert attrs["file_overwrite"] is False
    assert attrs["max_memory_size"] == 8 * 1024 * 1024  # large downloads spill to disk, not memory
    assert attrs["location"] == ""
    # Static files stay with whitenoise.
    expected_static = ("whitenoise.storage.CompressedManifestStaticFilesStorage" if module.endswith("production")
                       else "django.contrib.staticfiles.storage.StaticFilesStorage")
    assert got["staticfiles"] == expected_static


def test_optional_s3_variables_may_be_empty():
    # docker-compose.yml passes every STORAGE_S3_* through, empty when unset: empty means "not given".
    got = probe("config.settings.production", STORAGE_S3_BUCKET="b", STORAGE_S3_ENDPOINT_URL="",
                STORAGE_S3_REGION="", STORAGE_S3_ACCESS_KEY_ID="", STORAGE_S3_SECRET_ACCESS_KEY="",
                STORAGE_S3_ADDRESSING_STYLE="", STORAGE_S3_PREFIX="")
    assert got["config"] == {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": "b", "default_acl": "private", "querystring_auth": True, "file_overwrite": False,
        "max_memory_size": 8 * 1024 * 1024}}
    assert got["attrs"]["endpoint_url"] is None and got["attrs"]["access_key"] is None


@pytest.mark.parametrize("bucket", [None, "", "  "])
def test_without_a_bucket_files_stay_on_the_filesystem(bucket, tmp_path):
    got = probe("config.settings.production", STORAGE_S3_BUCKET=bucket, DJANGO_MEDIA_ROOT=str(tmp_path))
    assert got["config"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert got["class"].endswith("FileSystemStorage")


def test_the_test_settings_never_reach_a_bucket():
    got = probe("config.settings.test", **S3_ENV)
    assert got["config"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


# ---------------------------------------------------------------- replacing a job's file
def test_storage_replace_overwrites_in_place_and_survives_a_concurrent_writer(settings, tmp_path):
    from django.core.files.base import ContentFile

    from config.storage import StorageNameTaken, storage_replace
    from tests.support.storage import PathlessMemoryStorage

    settings.MEDIA_ROOT = str(tmp_path)
    storage = PathlessMemoryStorage()
    assert storage.save("jobs/1/out.xlsx", ContentFile(b"old")) == "jobs/1/out.xlsx"
    copy = storage.save("jobs/1/out.xlsx", ContentFile(b"x"))
    assert copy != "jobs/1/out.xlsx"  # what save() alone does with an existing name
    storage.delete(copy)
    assert storage_replace("jobs/1/out.xlsx", ContentFile(b"new"), storage=storage) == "jobs/1/out.xlsx"
    assert storage.listdir("jobs/1") == ([], ["out.xlsx"])
    with storage.open("jobs/1/out.xlsx") as fh:
        assert fh.read() == b"new"

    class Racing(PathlessMemoryStorage):
        """Another run stores the name between our delete and save, `races` times."""
        races = 1

        def delete(self, name):
            super().delete(name)
            if self.races and name == "jobs/1/out.xlsx":
                self.races -= 1
                super().save(name, ContentFile(b"theirs"))

    racing = Racing()
    racing.save("jobs/1/out.xlsx", ContentFile(b"old"))
    assert storage_replace("jobs/1/out.xlsx", ContentFile(b"ours"), storage=racing) == "jobs/1/out.xlsx"
    assert racing.listdir("jobs/1") == ([], ["out.xlsx"]), "the copy saved beside theirs was removed"
    with racing.open("jobs/1/out.xlsx") as fh:
        assert fh.read() == b"ours"
    racing.races = 99
    with pytest.raises(StorageNameTaken):
        storage_replace("jobs/1/out.xlsx", ContentFile(b"ours"), storage=racing)
    assert racing.listdir("jobs/1") == ([], ["out.xlsx"])


# ---------------------------------------------------------------- no local paths in the application
APP_DIRS = ["api", "compliance", "documents", "schools", "submissions", "tenancy", "benchmarks", "platform"]


def _file_field_names() -> set[str]:
    from django.apps import apps
    from django.db.models import FileField

    return {f.name for m in apps.get_models() for f in m._meta.get_fields() if isinstance(f, FileField)}


def local_path_uses(source: str, file_fields: set[str]) -> list[int]:
    """Line numbers of `<anything>.path(...)` calls (Storage.path) and of `<x>.<file field>.path`
    (FieldFile.path, which calls it), in one module's source. `os.path` is a module, never called."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "path":
            lines.append(node.lineno)
        elif (isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(node.value, ast.Attribute)
              and node.value.attr in file_fields):
            lines.append(node.lineno)
    return lines


def test_the_checker_finds_what_it_looks_for():
    fields = {"file", "thumbnail"}
    bad = ("from django.core.files.storage import default_storage, storages\n"
           "p = default_storage.path('x')\n"
           "q = storages['default'].path('y')\n"
           "r = evidence.file.path\n"
           "s = self.storage.path(name)\n")
    assert local_path_uses(bad, fields) == [2, 3, 4, 5]
    good = ("import os\nfrom django.urls import path\nurlpatterns = [path('a/', v)]\n"
            "x = os.path.join('a', 'b')\ny = request.path\nz = school.path\nw = evidence.file.name\n")
    assert local_path_uses(good, fields) == []


def test_application_code_never_asks_storage_for_a_local_path():
    fields = _file_field_names()
    assert {"file", "thumbnail"} <= fields
    found = []
    for top in APP_DIRS:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found += [f"{path.relative_to(ROOT)}:{n}" for n in local_path_uses(path.read_text(), fields)]
    assert not found, ("storage.path() / FieldFile.path used (S3 has no local path: use the storage API, "
                       "e.g. config.storage.storage_replace, default_storage.open): " + ", ".join(found))
    for template in sorted(ROOT.rglob("templates/**/*.html")):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        assert not any(f".{f}.path" in text for f in fields), template


def test_compose_passes_every_storage_variable_to_web_worker_and_beat():
    """Optional, so each is `${NAME:-}` (empty when unset; empty means "not given" in base.py), and
    every one the settings read is there, in both layouts."""
    from .compose_check import app_services, environment, merged
    from .test_readme import SOURCES, env_vars_read

    names = sorted(n for n in env_vars_read(SOURCES) if n.startswith("STORAGE_S3_"))
    assert "STORAGE_S3_BUCKET" in names and len(names) == 7
    for files in ([ROOT / "docker-compose.yml"], [ROOT / "docker-compose.yml", ROOT / "deploy" / "docker-compose.scale.yml"]):
        compose = merged(*files)
        services = app_services(compose)
        assert {"web", "worker", "beat"} <= set(services)
        for service in services:
            env = environment(compose["services"][service])
            assert {n: env.get(n) for n in names} == {n: f"${{{n}:-}}" for n in names}, service
    example = (ROOT / "deploy" / "env.example").read_text()
    assert all(f"# {n}=" in example for n in names)
