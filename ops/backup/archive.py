"""The archive: its members, the signed manifest, the files of storage, and verification.

A plain tar: `database.dump` (pg_dump --format=custom), `media/<name>` for every file of
filesystem storage, then `manifest.json` (hashes, sizes, row counts, versions) and `manifest.hmac`
(HMAC-SHA256 of the manifest's bytes). The manifest comes last, so a truncated copy is refused as
truncated; the HMAC makes it tamper-evident (README, "Backup and restore").
"""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.crypto import salted_hmac

FORMAT = "liushou-backup/1"
DUMP_MEMBER = "database.dump"
MANIFEST_MEMBER = "manifest.json"
SIGNATURE_MEMBER = "manifest.hmac"
MEDIA_PREFIX = "media/"
ARCHIVE_PREFIX = "liushou-backup-"
ARCHIVE_SUFFIX = ".tar"
STAGING_PREFIX = ".restore-"
CHUNK = 1024 * 1024
# A mounted filesystem's own folder: not content of storage.
IGNORED_IN_STORAGE = {"lost+found"}


class BackupError(Exception):
    """A refusal or a failure, worded for the operator."""


# ---------------------------------------------------------------- keys
def hmac_keys() -> list[bytes]:
    """BACKUP_HMAC_KEY (comma-separated: the first signs, any verifies), else one derived from
    SECRET_KEY, which production requires to be a real secret."""
    keys = [k.encode() for k in getattr(settings, "BACKUP_HMAC_KEYS", []) if k.strip()]
    return keys or [salted_hmac("liushou.backup.manifest", "key", algorithm="sha256").digest()]


def key_id(key: bytes) -> str:
    """A fingerprint that names a key in messages without revealing it."""
    return hmac.new(key, b"liushou-backup key id", hashlib.sha256).hexdigest()[:16]


def sign(data: bytes, key: bytes) -> str:
    return hmac.new(key, data, hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- storage
def storage_root() -> Path | None:
    """MEDIA_ROOT of the default storage, or None when it is not on the filesystem (object storage:
    its files are not archived: the bucket backs them up)."""
    if not isinstance(default_storage, FileSystemStorage):
        return None
    return Path(default_storage.location)


def external_storage_name() -> str:
    """The default storage's class and bucket, for manifests and messages."""
    backend = default_storage.__class__.__name__  # the lazy object reports the real class here
    bucket = getattr(default_storage, "bucket_name", None)
    return f"{backend} (bucket {bucket})" if bucket else backend


EXTERNAL_STORAGE_NOTE = ("the files are in object storage and not in this archive: they are backed up by the "
                         "bucket's own versioning/replication (README, section 6)")


def storage_entries(root: Path) -> list[str]:
    if not root.exists():
        return []
    if not root.is_dir():
        raise BackupError(f"storage folder {root} is not a folder.")
    return sorted(p.name for p in root.iterdir() if p.name not in IGNORED_IN_STORAGE)


def walk_storage(root: Path):
    """(storage name, path) of each regular file, in a stable order. Symbolic links are skipped: the
    app never makes them, and following one could archive files from outside storage."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        top = here == root
        skip = (lambda d: d in IGNORED_IN_STORAGE or d.startswith(STAGING_PREFIX)) if top else (lambda d: False)
        dirnames[:] = sorted(d for d in dirnames if not skip(d))
        for filename in sorted(filenames):
            path = here / filename
            if path.is_symlink() or not path.is_file():
                continue
            yield path.relative_to(root).as_posix(), path


class _HashingReader:
    """Wraps a binary file: hashes exactly the bytes tarfile copies into the archive."""

    def __init__(self, fileobj):
        self.fileobj, self.sha, self.size = fileobj, hashlib.sha256(), 0

    def read(self, n=-1):
        data = self.fileobj.read(n)
        self.sha.update(data)
        self.size += len(data)
        return data


def add_member(tar: tarfile.TarFile, name: str, fileobj, size: int, mtime: float) -> dict:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    reader = _HashingReader(fileobj)
    tar.addfile(info, reader)
    return {"sha256": reader.sha.hexdigest(), "size": reader.size}


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    add_member(tar, name, io.BytesIO(data), len(data), mtime)


# ---------------------------------------------------------------- verify
def check_member_name(name: str) -> None:
    if name == DUMP_MEMBER:
        return
    rel = name[len(MEDIA_PREFIX):] if name.startswith(MEDIA_PREFIX) else None
    parts = rel.split("/") if rel else []
    if (not rel or any(p in ("", ".", "..") for p in parts) or "\\" in rel or "\x00" in rel
            or parts[0] in IGNORED_IN_STORAGE or parts[0].startswith(STAGING_PREFIX)):
        raise BackupError(f"the archive holds an unexpected member {name!r}; refusing it.")


def hash_member(tar: tarfile.TarFile, member: tarfile.TarInfo, sink=None) -> dict:
    sha, size = hashlib.sha256(), 0
    source = tar.extractfile(member)
    while chunk := source.read(CHUNK):
        sha.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return {"sha256": sha.hexdigest(), "size": size}


def _read_small(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    if member.size > limit:
        raise BackupError(f"{member.name} is implausibly large ({member.size} bytes); refusing the archive.")
    return tar.extractfile(member).read()


def verify_archive(path: Path, keys: list[bytes] | None = None) -> dict:
    """Check the archive end to end without writing anything; return its manifest.

    Refuses: a damaged or truncated tar, a missing manifest or signature, an HMAC that matches none
    of our keys, a member whose hash or size differs, a member missing or not in the manifest, and
    anything that is not a regular file under a safe name.
    """
    path = Path(path)
    keys = keys or hmac_keys()
    if not path.is_file():
        raise BackupError(f"{path}: no such archive.")
    seen: dict[str, dict] = {}
    manifest_bytes = signature = None
    try:
        with tarfile.open(path, mode="r:") as tar:
            for member in tar:
                name = member.name
                if name in seen or (name == MANIFEST_MEMBER and manifest_bytes is not None) or (
                        name == SIGNATURE_MEMBER and signature is not None):
                    raise BackupError(f"the archive holds {name!r} twice; refusing it.")
                if not member.isreg():
                    raise BackupError(f"the archive member {name!r} is not a regular file; refusing it.")
                if name == MANIFEST_MEMBER:
                    manifest_bytes = _read_small(tar, member, 512 * 1024 * 1024)
                elif name == SIGNATURE_MEMBER:
                    signature = _read_small(tar, member, 1024)
                else:
                    check_member_name(name)
                    seen[name] = hash_member(tar, member)
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path}: the archive is damaged or truncated ({exc}).") from None
    if manifest_bytes is None or signature is None:
        absent = MANIFEST_MEMBER if manifest_bytes is None else SIGNATURE_MEMBER
        raise BackupError(f"{path}: the archive is incomplete (no {absent}): "
                          "truncated, or not made by `manage.py backup`.")
    expected_sig = signature.strip()  # bytes: compare_digest refuses non-ASCII str
    if not any(hmac.compare_digest(sign(manifest_bytes, k).encode(), expected_sig) for k in keys):
        try:
            claimed = json.loads(manifest_bytes).get("key_id", "?")
        except (ValueError, AttributeError):
            claimed = "?"
        raise BackupError(
            f"{path}: the manifest's HMAC does not match: the archive was changed after it was written, or "
            f"it was signed with another BACKUP_HMAC_KEY (the manifest names key id {claimed}; yours: "
            f"{', '.join(key_id(k) for k in keys)}).")
    manifest = json.loads(manifest_bytes)
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown archive format {manifest.get('format')!r} (expected {FORMAT}).")
    expected: dict[str, dict] = manifest["members"]
    problems = []
    for name in sorted(set(expected) - set(seen)):
        problems.append(f"missing: {name}")
    for name in sorted(set(seen) - set(expected)):
        problems.append(f"not in the manifest: {name}")
    for name in sorted(set(seen) & set(expected)):
        if seen[name] != {"sha256": expected[name]["sha256"], "size": expected[name]["size"]}:
            want, got = expected[name], seen[name]
            problems.append(f"hash mismatch: {name} (manifest {want['sha256'][:12]}…, {want['size']} bytes; "
                            f"archive {got['sha256'][:12]}…, {got['size']} bytes)")
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise BackupError(f"{path}: the archive does not match its manifest:\n  {shown}")
    return manifest


