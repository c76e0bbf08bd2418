"""Checking and cleaning uploaded evidence: photos and documents.

Pure functions, no models and no storage: the caller (schools.services) stores what comes back.

Photos show children and come from clerks' phones, so every photo is decoded, turned upright
according to its EXIF orientation and re-encoded as a fresh JPEG. The stored bytes therefore carry
no EXIF, GPS, XMP or comment: nothing of the original file's metadata survives.

Documents (PDF, DOCX, XLSX) are judged by their content, never by the file name, and stored
without their identifying metadata (author, last editor, company, manager, title, XMP, the file's
folder): see schools.document_metadata. Their SHA-256 is of the stored bytes, as for photos.

Every EvidenceError message is user-facing and translated (gettext at raise time, so it follows the
request's language).
"""
from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from dataclasses import dataclass

import numpy
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

try:  # HEIC/HEIF (iPhone photos) only when pillow-heif is installed and loads.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except Exception:  # pragma: no cover - depends on the machine
    HEIF_SUPPORTED = False

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Stored photos are at most this many pixels on the long side: plenty to read a photo of an activity
# on a screen or in a printed report, and a 12 MP phone photo shrinks from ~4 MB to well under 1 MB.
MAX_STORED_SIDE = 2048
# A JPEG decodes directly at 1/2, 1/4 or 1/8 scale (draft mode: far less time and memory than a full
# decode). The scale may land up to this fraction under MAX_STORED_SIDE, so the usual 4000/4032 px
# phone photo decodes at half size (2000/2016 px) and needs no further resampling.
DRAFT_SLACK = 0.9
THUMBNAIL_SIZE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80

# Zip containers (DOCX/XLSX): limits on what the archive *declares*. zipfile never inflates an
# entry past its declared size, so these bound the work any later reader can be made to do.
MAX_ZIP_ENTRIES = 2000
MAX_ZIP_UNCOMPRESSED = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200  # per entry, once the entry is larger than 1 MB

# Pillow formats we accept. MPO is what Pillow calls multi-picture JPEGs from many phone cameras.
ACCEPTED_IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF"}

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class EvidenceError(ValueError):
    """An upload that cannot be accepted. str(error) is a translated, user-facing message."""


class EvidenceStorageError(EvidenceError):
    """The upload was fine but the file store failed (disk full, unwritable directory, object store
    down). Nothing was recorded; the user may retry later. Raised by schools.services."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("The file could not be saved on the server, so nothing was recorded. "
                                      "Please try again later; if it keeps failing, tell the administrator."))


@dataclass
class ProcessedImage:
    data: bytes  # the re-encoded JPEG to store (no metadata)
    thumbnail: bytes  # JPEG, longest side at most THUMBNAIL_SIZE
    sha256: str  # hex SHA-256 of `data` (the stored bytes), not of the original upload
    # imagehash.phash as 16 hex digits, compare with phash_distance(); "" when the picture has too
    # little detail for its hash to mean anything (see matchable_phash).
    phash: str
    width: int  # of `data`, after the EXIF orientation was applied
    height: int
    content_type: str = "image/jpeg"


@dataclass
class CheckedDocument:
    data: bytes  # what to store: the upload without its identifying metadata
    sha256: str  # hex SHA-256 of `data`, not of the original upload
    content_type: str
    extension: str  # "pdf", "docx" or "xlsx", decided by the content


def _mb(limit: int) -> str:
    value = limit / (1024 * 1024)
    return f"{value:g}"


def _read_all(fileobj, max_bytes: int, too_large_message: str) -> bytes:
    """Read the whole upload (bytes, a file object or a Django UploadedFile), refusing past max_bytes.

    Reads at most max_bytes + 1 bytes, so an oversized upload never sits in memory whole.
    """
    if isinstance(fileobj, (bytes, bytearray, memoryview)):
        data = bytes(fileobj)
    else:
        if hasattr(fileobj, "seek"):
            try:
                fileobj.seek(0)
            except (OSError, ValueError):
                pass
        data = fileobj.read(max_bytes + 1)
        if isinstance(data, str):
            raise TypeError("open the upload in binary mode")
    if len(data) > max_bytes:
        raise EvidenceError(too_large_message)
    if not data:
        raise EvidenceError(_("The file is empty."))
    return data


def _sniff_image_kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    return None


def is_image(fileobj) -> bool:
    """True when the content starts like a JPEG, PNG, WebP or HEIC/HEIF file (magic bytes only).

    Cheap routing helper for the caller; process_image() still decides whether it is acceptable.
    The file position is restored.
    """
    if isinstance(fileobj, (bytes, bytearray, memoryview)):
        head = bytes(fileobj[:32])
    else:
        pos = None
        if hasattr(fileobj, "tell"):
            try:
                pos = fileobj.tell()
                fileobj.seek(0)
            except (OSError, ValueError):
                pos = None
        head = fileobj.read(32) or b""
        if pos is not None:
            fileobj.seek(pos)
    return _sniff_image_kind(head) is not None


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open from the header only and enforce the pixel limit before anything is decoded."""
    too_many = _("The image has more than %(mp)s million pixels.") % {"mp": f"{max_pixels / 1e6:g}"}
    with warnings.catch_warnings():
        # Pillow warns above Image.MAX_IMAGE_PIXELS and raises at twice that; both are bombs here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise EvidenceError(too_many) from None
        except UnidentifiedImageError:
            raise EvidenceError(_not_an_image_message(data)) from None
        except Exception:
            # A recognised format with a broken header (struct errors, bad chunk lengths, ...).
            raise EvidenceError(_("The image is damaged or incomplete and cannot be read.")) from None
    if image.format not in ACCEPTED_IMAGE_FORMATS:
        raise EvidenceError(_("Only JPEG, PNG, WebP and HEIC photos are accepted."))
    width, height = image.size
    if width <= 0 or height <= 0:
        raise EvidenceError(_("The image is damaged or incomplete and cannot be read."))
    if width * height > max_pixels:
        raise EvidenceError(too_many)
    return image


def _not_an_image_message(data: bytes) -> str:
    kind = _sniff_image_kind(data[:32])
    if kind == "heif" and not HEIF_SUPPORTED:
        return _("HEIC photos cannot be read on this server. Please upload the photo as JPEG.")
    if kind is not None:
        return _("The image is damaged or incomplete and cannot be read.")
    return _("The file is not a photo. Only JPEG, PNG, WebP and HEIC photos are accepted.")


def not_a_photo_message(fileobj) -> str:
    """Why a file offered as a photo is not one: a damaged or unreadable photo, or not a photo at all."""
    head = fileobj.read(32)
    fileobj.seek(0)
    if not head:
        return _("The file is empty.")
    return _not_an_image_message(head)


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int] | None:
    """The size to ask Image.draft() for, or None when the photo is small enough already."""
    width, height = size
    longest = max(width, height)
    if longest <= max_side:
        return None
    factor = max_side * DRAFT_SLACK / longest
    return max(1, int(width * factor)), max(1, int(height * factor))


def _decode(data: bytes, max_pixels: int, max_side: int = MAX_STORED_SIDE) -> Image.Image:
    """Decode the pixels (a large JPEG at a reduced scale, see DRAFT_SLACK); refuse damaged data."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Someone relaxed Pillow globally: truncated photos would then pass as half-grey images.
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    image = _open_checked(data, max_pixels)
    try:
        # verify() checks structure (PNG CRCs, ...) without decoding; it leaves the object unusable,
        # hence the second open. load() then decodes the pixels and catches truncated data.
        image.verify()
        image = _open_checked(data, max_pixels)
        requested = _draft_size(image.size, max_side)
        if requested is not None and image.format in ("JPEG", "MPO"):
            image.draft(None, requested)  # decode at 1/2, 1/4 or 1/8 scale in the DCT domain
        image.load()
    except EvidenceError:
        raise
    except Exception:
        raise EvidenceError(_("The image is damaged or incomplete and cannot be read.")) from None
    return image


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    """Shrink to at most max_side on the long side (reduce() by whole factors first: fast)."""
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten any mode to RGB; transparent areas become white (how the photo looks on a page)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16-bit/float greyscale: scale into 8 bits instead of clipping everything to white.
        gray = image.convert("I")
        lo, hi = gray.getextrema()
        span = (hi - lo) or 1
        return gray.point(lambda v: (v - lo) * 255 / span).convert("L").convert("RGB")
    return image.convert("RGB")


def _jpeg_bytes(image: Image.Image, quality: int) -> bytes:
    # Start from an empty info dict: Pillow carries im.info["comment"] (and could carry other keys)
    # into the saved JPEG. No exif=, no xmp=: nothing of the original metadata is written.
    image.info = {}
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


def process_image(fileobj, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                  max_side: int = MAX_STORED_SIDE) -> ProcessedImage:
    """Check, turn upright, shrink, strip and re-encode an uploaded photo; raise EvidenceError when
    unusable. Every step after the decode works on the reduced image (time and memory)."""
    data = _read_all(
        fileobj, max_bytes, _("The image is larger than %(mb)s MB.") % {"mb": _mb(max_bytes)}
    )
    if data.startswith(b"%PDF-") or data.startswith(b"PK\x03\x04") or data.startswith(_OLE_MAGIC):
        raise EvidenceError(
            _("The file is a document, not a photo. Only JPEG, PNG, WebP and HEIC photos are accepted.")
        )
    image = _decode(data, max_pixels, max_side)
    del data  # the upload's bytes are no longer needed; drop them before the big allocations
    try:
        # Read the orientation before anything else: resize() and convert() drop the EXIF block.
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        orientation = 1  # a corrupt EXIF block must not cost the user the photo; it is dropped anyway
    try:
        clean = _to_rgb(_fit(image, max_side))
    except Exception:  # exotic modes Pillow cannot convert (LAB from odd TIFF-in-JPEG, ...)
        raise EvidenceError(_("The image is damaged or incomplete and cannot be read.")) from None
    transpose = _ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    if transpose is not None:
        clean = clean.transpose(transpose)
    image = None  # the decoded original (the largest buffer) can go now

    stored = _jpeg_bytes(clean, JPEG_QUALITY)
    thumb = clean.resize(_thumbnail_size(clean.size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    thumbnail = _jpeg_bytes(thumb, THUMBNAIL_QUALITY)

    return ProcessedImage(
        data=stored,
        thumbnail=thumbnail,
        sha256=hashlib.sha256(stored).hexdigest(),
        # On the thumbnail: phash shrinks to 32×32 anyway, and this is ~100× fewer pixels to read.
        phash=matchable_phash(thumb),
        width=clean.width,
        height=clean.height,
    )


# EXIF orientation → the transpose that turns the picture upright (as in ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _thumbnail_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, THUMBNAIL_SIZE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# The first 8 rows of the (unnormalised) DCT-II matrix for 32 samples: what scipy.fftpack.dct computes.
_DCT_8x32 = 2 * numpy.cos(numpy.pi * numpy.outer(numpy.arange(8), 2 * numpy.arange(32) + 1) / 64)


# Below this spread of grey levels (standard deviation, 0–255) in the 32×32 picture the hash reads,
# a photo is one colour or nearly so (a plain wall, a covered lens, a dot on white paper): its hash is
# rounding noise, and every flat picture of any colour or size hashes to 8000000000000000.
MIN_PHASH_DETAIL = 2.0
# A hash splits 64 frequencies at their median, so any picture with structure sets exactly 32 bits.
# Far fewer means most frequencies tie at zero: a flat picture or a plain gradient, which would
# match every other one.
MIN_PHASH_BITS = 16


def _phash_pixels(image: Image.Image):
    return numpy.asarray(image.convert("L").resize((32, 32), Image.Resampling.LANCZOS), dtype=numpy.float64)


def _phash_of(pixels) -> str:
    # Rounded: a flat picture must give exact zeros (as scipy does), not float noise around the median.
    low = numpy.round(_DCT_8x32 @ pixels @ _DCT_8x32.T, 6)
    bits = (low > numpy.median(low)).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def perceptual_hash(image: Image.Image) -> str:
    """imagehash.phash(image) as 16 hex digits, bit for bit, without importing scipy on the upload path.

    Grey 32×32 (Lanczos), 2-D DCT, the 8×8 lowest frequencies compared with their median.
    """
    return _phash_of(_phash_pixels(image))


def image_detail(image: Image.Image) -> float:
    """The standard deviation of the grey levels the perceptual hash reads (0 for a flat picture)."""
    return float(_phash_pixels(image).std())


def matchable_phash(image: Image.Image) -> str:
    """The perceptual hash to store and compare, or "" for a picture with too little detail for
    one (MIN_PHASH_DETAIL, MIN_PHASH_BITS): such photos are matched by their SHA-256 only."""
    pixels = _phash_pixels(image)
    if pixels.std() < MIN_PHASH_DETAIL:
        return ""
    phash = _phash_of(pixels)
    return phash if int(phash, 16).bit_count() >= MIN_PHASH_BITS else ""


def phash_distance(a: str, b: str) -> int:
    """Hamming distance between two phash hex strings; 0 = same picture, <= 8 or so = likely reused."""
    if len(a) != len(b):
        raise ValueError("perceptual hashes of different lengths cannot be compared")
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _check_zip(data: bytes) -> str:
    """Return "docx" or "xlsx" for a sane Office Open XML package, else raise EvidenceError."""
    unknown = _("The file is not a PDF, Word (.docx) or Excel (.xlsx) document.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise EvidenceError(_("The document is damaged or incomplete and cannot be read.")) from None
    with archive:
        if len(infos) > MAX_ZIP_ENTRIES:
            raise EvidenceError(_("The document contains too many parts to be checked safely."))
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                raise EvidenceError(_("The document is compressed suspiciously and was refused."))
        if total > MAX_ZIP_UNCOMPRESSED:
            raise EvidenceError(_("The document is compressed suspiciously and was refused."))
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names:
            raise EvidenceError(unknown)
        if "word/document.xml" in names:
            kind = "docx"
        elif "xl/workbook.xml" in names:
            kind = "xlsx"
        else:
            raise EvidenceError(unknown)
        try:
            content_types = archive.read("[Content_Types].xml")
            # Reading one member also checks its CRC: a damaged package fails here, not later.
            archive.read("word/document.xml" if kind == "docx" else "xl/workbook.xml")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
            raise EvidenceError(_("The document is damaged or incomplete and cannot be read.")) from None
        if b"macroEnabled" in content_types or any(n.lower().endswith("vbaproject.bin") for n in names):
            raise EvidenceError(_("Documents containing macros are not accepted."))
    return kind


def check_document(fileobj, *, max_bytes: int = MAX_BYTES) -> CheckedDocument:
    """Identify a PDF, DOCX or XLSX by content; raise EvidenceError for anything else.

    The bytes returned are the document without its identifying metadata (schools.document_metadata);
    sha256 is of those bytes, so a re-upload of the same document, whoever saved it, matches.
    """
    data = _read_all(
        fileobj, max_bytes, _("The document is larger than %(mb)s MB.") % {"mb": _mb(max_bytes)}
    )
    if data.startswith(b"%PDF-"):
        # A PDF ends with %%EOF (possibly followed by a little whitespace or an appended update);
        # its absence near the end means the upload was cut off.
        if b"%%EOF" not in data[-4096:]:
            raise EvidenceError(_("The PDF is incomplete and cannot be read."))
        extension = "pdf"
    elif data.startswith(b"PK\x03\x04"):
        extension = _check_zip(data)
    elif data.startswith(_OLE_MAGIC):
        raise EvidenceError(
            _("Old Word/Excel files (.doc, .xls) and password-protected documents are not accepted. "
              "Please save the document as .docx, .xlsx or PDF.")
        )
    elif _sniff_image_kind(data[:32]):
        raise EvidenceError(_("The file is a photo, not a document. Please upload it as a photo."))
    else:
        raise EvidenceError(_("The file is not a PDF, Word (.docx) or Excel (.xlsx) document."))
    from .document_metadata import strip_document_metadata  # imports this module: not at the top

    data = strip_document_metadata(data, extension)
    return CheckedDocument(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=CONTENT_TYPES[extension],
        extension=extension,
    )
