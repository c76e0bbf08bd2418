"""Encryption at rest for children's national ID numbers.

Keys come from settings.FIELD_ENCRYPTION_KEYS (a list; the first encrypts, all decrypt, so keys
rotate by prepending a new one). Each key string is stretched to a 32-byte Fernet key with
SHA-256. The duplicate-detection hash is an HMAC-SHA256 keyed from the first key string with a
separate label, so it reveals nothing without the key and is stable for equal numbers.
(Rotating the first key changes the HMAC; re-run services.children_rekey after a rotation.)
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys or not all(keys):
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must hold at least one non-empty key.")
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.encode("utf-8")).digest())) for k in keys
    ])


def _keys() -> tuple[str, ...]:
    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(_keys()).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:  # a key was removed before re-encryption: fail loudly
        raise ImproperlyConfigured("A child's ID number cannot be decrypted with FIELD_ENCRYPTION_KEYS.") from exc


def rotate(token: str) -> str:
    """Re-encrypt under the first (newest) key."""
    return _fernet(_keys()).rotate(token.encode("ascii")).decode("ascii") if token else ""


def identity_hash(value: str) -> str:
    """Keyed hash for uniqueness/duplicate checks within a school."""
    if not value:
        return ""
    key = hashlib.sha256(b"child-id-hmac:" + _keys()[0].encode("utf-8")).digest()
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def normalise_id_number(value: str) -> str:
    """Upper-case X, no spaces; full-width digits and letters from a Chinese IME (１２…ｘ) as ASCII."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def id_number_checksum_ok(value: str) -> bool:
    """GB 11643-1999 check digit of an 18-character resident ID number."""
    if not ID_NUMBER_RE.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS))
    return _CHECK[total % 11] == value[17]


def with_checksum(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return first17 + _CHECK[total % 11]


def mask_id_number(value: str) -> str:
    """3412**********123X: region prefix and last four only."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
