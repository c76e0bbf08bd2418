"""schools.evidence: photos are cleaned and re-encoded, documents are judged by content."""
from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib

import pytest
from django.utils import translation
from PIL import ExifTags, Image, ImageDraw, ImageFile

from schools import evidence
from schools.evidence import EvidenceError, check_document, is_image, phash_distance, process_image
from tests.support.documents import pdf_bytes
from tests.support.images import encoded

# --- builders -----------------------------------------------------------------------------------

def picture(width=400, height=300, seed=0) -> Image.Image:
    """A picture with structure (so perceptual hashes mean something), different per seed."""
    im = Image.new("RGB", (width, height), (240, 230, 210))
    draw = ImageDraw.Draw(im)
    if seed == 0:
        draw.rectangle((0, 0, width // 2, height), fill=(30, 60, 160))
        draw.ellipse((width * 0.55, height * 0.2, width * 0.95, height * 0.8), fill=(200, 40, 40))
    else:
        for i in range(0, height, 30):
            draw.rectangle((0, i, width, i + 12), fill=(20, 140, 60))
        draw.polygon([(0, height), (width // 2, 0), (width, height)], fill=(250, 200, 0))
    return im


def gps_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Clerk's phone"
    exif[ExifTags.Base.DateTime] = "2026:03:05 10:11:12"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (32.0, 46.0, 50.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (118.0, 9.0, 20.0)
    return exif


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_declared_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height: a decompression bomb in a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + png_chunk(b"IEND", b""))


def ooxml(kind: str, extra: dict[str, bytes] | None = None) -> bytes:
    main = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="x"/>')
        z.writestr(main, "<root/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


PDF = pdf_bytes("plan")


# --- photos -------------------------------------------------------------------------------------

def test_gps_exif_comment_and_xmp_are_gone_from_the_stored_file():
    original = encoded(picture(), exif=gps_exif(), comment=b"taken at Xiaowang village")
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # precondition

    result = process_image(io.BytesIO(original))

    for blob in (result.data, result.thumbnail):
        stored = Image.open(io.BytesIO(blob))
        assert stored.format == "JPEG"
        assert len(stored.getexif()) == 0
        assert stored.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert "exif" not in stored.info and "comment" not in stored.info and "xmp" not in stored.info
        assert b"Exif\x00\x00" not in blob and b"PhoneMaker" not in blob and b"Xiaowang" not in blob
    assert result.content_type == "image/jpeg"


def test_exif_orientation_is_applied_before_stripping():
    # Orientation 6: the camera held sideways; viewers rotate 90° clockwise, so 400×300 shows 300×400.
    im = picture(400, 300)
    result = process_image(io.BytesIO(encoded(im, exif=gps_exif(orientation=6))))

    assert (result.width, result.height) == (300, 400)
    stored = Image.open(io.BytesIO(result.data))
    assert stored.size == (300, 400)
    assert ExifTags.Base.Orientation not in stored.getexif()
    # The left half of the original (blue) is now the top half.
    r, g, b = stored.convert("RGB").getpixel((150, 50))
    assert b > 120 and r < 90


def test_result_fields_hashes_and_thumbnail():
    result = process_image(encoded(picture(1600, 1200)))
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    assert len(result.phash) == 16 and int(result.phash, 16) >= 0
    thumb = Image.open(io.BytesIO(result.thumbnail))
    assert thumb.format == "JPEG" and max(thumb.size) == 320 and thumb.size == (320, 240)
    assert (result.width, result.height) == (1600, 1200)


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGBA"), ("PNG", "P"), ("WEBP", "RGB"), ("PNG", "L")])
def test_png_and_webp_are_accepted_and_become_rgb_jpeg(fmt, mode):
    im = picture().convert(mode)
    out = io.BytesIO()
    im.save(out, fmt)
    result = process_image(io.BytesIO(out.getvalue()))
    stored = Image.open(io.BytesIO(result.data))
    assert stored.format == "JPEG" and stored.mode == "RGB" and stored.size == (400, 300)


def test_heic_is_accepted():
    # pillow-heif is pinned in pyproject.toml: failing to load it is a broken install, not a skip.
    assert evidence.HEIF_SUPPORTED, "pillow-heif is pinned but did not register its HEIF opener"
    out = io.BytesIO()
    picture().save(out, "HEIF")
    assert is_image(out.getvalue())
    result = process_image(out)
    assert Image.open(io.BytesIO(result.data)).format == "JPEG"


def test_heic_without_pillow_heif_gets_a_clear_error(monkeypatch):
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 100
    monkeypatch.setattr(evidence, "HEIF_SUPPORTED", False)
    assert "HEIC" in evidence._not_an_image_message(heic_header)


def test_truncated_jpeg_is_a_clear_error():
    data = encoded(picture(800, 600))
    with pytest.raises(EvidenceError, match="damaged or incomplete"):
        process_image(io.BytesIO(data[: len(data) // 2]))


def test_corrupt_bytes_with_a_jpeg_signature_are_a_clear_error():
    with pytest.raises(EvidenceError, match="damaged or incomplete"):
        process_image(b"\xff\xd8\xff\xe0" + b"\x13\x37" * 500)


def test_png_with_a_bad_crc_is_refused_by_verify():
    out = io.BytesIO()
    picture().save(out, "PNG")
    data = bytearray(out.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # flip bits inside the compressed pixel data: CRC no longer matches
    with pytest.raises(EvidenceError, match="damaged or incomplete"):
        process_image(bytes(data))


def test_empty_file():
    with pytest.raises(EvidenceError, match="empty"):
        process_image(io.BytesIO(b""))
    with pytest.raises(EvidenceError, match="empty"):
        check_document(io.BytesIO(b""))


def test_oversize_file_is_refused_without_reading_it_all():
    class Endless(io.RawIOBase):
        read_total = 0

        def readable(self):
            return True

        def read(self, n=-1):
            assert n > 0, "must read with a limit"
            self.read_total += n
            return b"\xff" * n

    source = Endless()
    with pytest.raises(EvidenceError, match=r"larger than 10 MB"):
        process_image(source)
    assert source.read_total == 10 * 1024 * 1024 + 1
    with pytest.raises(EvidenceError, match=r"larger than 1 MB"):
        check_document(b"%PDF-" + b"x" * (1024 * 1024), max_bytes=1024 * 1024)


def test_pixel_limit_checked_from_the_header():
    # 8000 × 5001 = 40.008 MP: just over the limit, under Pillow's own bomb threshold.
    with pytest.raises(EvidenceError, match="more than 40 million pixels"):
        process_image(png_with_declared_size(8000, 5001))
    # A lower limit is honoured for an ordinary photo.
    with pytest.raises(EvidenceError, match="more than 0.1 million pixels"):
        process_image(encoded(picture(400, 300)), max_pixels=100_000)


def test_decompression_bomb_is_refused():
    # 100 000 × 100 000 = 10 gigapixels declared in ~100 bytes: Pillow's DecompressionBombError.
    bomb = png_with_declared_size(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(EvidenceError, match="million pixels"):
        process_image(bomb)
    # Between Pillow's warning threshold and its error threshold: the warning is turned into a refusal.
    with pytest.raises(EvidenceError, match="million pixels"):
        process_image(png_with_declared_size(10_000, 10_000), max_pixels=10**12)


def test_pdf_named_jpg_is_judged_by_content():
    upload = io.BytesIO(PDF)
    upload.name = "photo.jpg"
    assert not is_image(upload)
    checked = check_document(upload)
    assert checked.extension == "pdf" and checked.content_type == "application/pdf"
    # Stored without its metadata (rewritten: tests/schools/test_document_metadata.py); hashed as stored.
    assert checked.sha256 == hashlib.sha256(checked.data).hexdigest() and checked.data.startswith(b"%PDF-")
    with pytest.raises(EvidenceError, match="document, not a photo"):
        process_image(upload)


def test_text_file_is_not_a_photo():
    with pytest.raises(EvidenceError, match="not a photo"):
        process_image(b"hello, this is not an image at all")


def test_gif_is_not_accepted():
    out = io.BytesIO()
    picture().save(out, "GIF")
    with pytest.raises(EvidenceError, match="Only JPEG, PNG, WebP and HEIC"):
        process_image(out.getvalue())


def test_phash_same_for_reencoded_copy_different_for_other_picture():
    first = process_image(encoded(picture(seed=0)))
    # The same photo, re-saved smaller and at a lower quality (what WeChat does to a forwarded photo).
    copy_im = picture(seed=0).resize((300, 225))
    copy = process_image(copy_im.save(buf := io.BytesIO(), "JPEG", quality=50) or buf.getvalue())
    other = process_image(encoded(picture(seed=1)))

    assert first.sha256 != copy.sha256
    assert phash_distance(first.phash, copy.phash) <= 4
    assert phash_distance(first.phash, other.phash) > 16
    assert phash_distance(first.phash, first.phash) == 0


def test_phash_distance_counts_bits():
    assert phash_distance("0000000000000000", "000000000000000f") == 4
    assert phash_distance("ffffffffffffffff", "0000000000000000") == 64
    with pytest.raises(ValueError):
        phash_distance("ff", "0000")


def test_is_image_restores_the_file_position():
    upload = io.BytesIO(encoded(picture()))
    upload.seek(5)
    assert is_image(upload)
    assert upload.tell() == 5
    assert not is_image(io.BytesIO(ooxml("docx")))


def test_accepts_django_uploaded_file():
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("IMG_0001.JPG", encoded(picture(), exif=gps_exif()), content_type="image/jpeg")
    upload.read(10)  # a caller may already have peeked at it
    assert process_image(upload).width == 400


def test_errors_go_through_gettext(monkeypatch):
    with translation.override("en"), pytest.raises(EvidenceError) as caught:
        process_image(b"")
    assert str(caught.value) == "The file is empty."
    # Every message is looked up in the catalogue at raise time.
    monkeypatch.setattr(evidence, "_", lambda text: f"<{text}>")
    with pytest.raises(EvidenceError) as caught:
        process_image(b"x" * 11, max_bytes=10)
    assert str(caught.value).startswith("<The image is larger than")
    with pytest.raises(EvidenceError) as caught:
        check_document(b"plain text")
    assert str(caught.value) == "<The file is not a PDF, Word (.docx) or Excel (.xlsx) document.>"


def test_load_truncated_images_must_not_be_relaxed(monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError):
        process_image(encoded(picture()))


# --- documents ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_docx_and_xlsx_detected_by_content_whatever_the_name(kind):
    upload = io.BytesIO(ooxml(kind))
    upload.name = "scan.pdf"
    checked = check_document(upload)
    assert checked.extension == kind
    assert checked.content_type == evidence.CONTENT_TYPES[kind]


def test_real_xlsx_from_xlsxwriter_is_an_xlsx():
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.add_worksheet().write(0, 0, "hello")
    book.close()
    assert check_document(out.getvalue()).extension == "xlsx"


def test_plain_zip_is_not_a_document():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("notes.txt", "hi")
    with pytest.raises(EvidenceError, match="not a PDF, Word"):
        check_document(out.getvalue())


def test_unknown_content_is_refused_even_with_a_document_name():
    upload = io.BytesIO(b"MZ\x90\x00 an executable pretending")
    upload.name = "plan.docx"
    with pytest.raises(EvidenceError, match="not a PDF, Word"):
        check_document(upload)


def test_photo_sent_as_document_is_redirected():
    with pytest.raises(EvidenceError, match="photo, not a document"):
        check_document(encoded(picture()))


def test_old_office_format_is_refused_clearly():
    with pytest.raises(EvidenceError, match=r"\.doc, \.xls"):
        check_document(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)


def test_truncated_pdf_and_zip():
    with pytest.raises(EvidenceError, match="PDF is incomplete"):
        check_document(PDF[:-8])
    data = ooxml("docx")
    with pytest.raises(EvidenceError, match="damaged or incomplete"):
        check_document(data[: len(data) - 30])


def test_macro_documents_are_refused():
    with pytest.raises(EvidenceError, match="macros"):
        check_document(ooxml("docx", {"word/vbaProject.bin": b"\0" * 10}))


def test_zip_bomb_total_size_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w/>")
        with z.open("word/media/image1.bin", "w") as entry:
            chunk = b"\0" * (1 << 20)
            for _ in range(101):  # 101 MB of zeros, ~100 KB compressed
                entry.write(chunk)
    assert len(out.getvalue()) < 200_000
    with pytest.raises(EvidenceError, match="compressed suspiciously"):
        check_document(out.getvalue())


def test_zip_bomb_ratio_and_entry_count_refused():
    with pytest.raises(EvidenceError, match="compressed suspiciously"):
        check_document(ooxml("xlsx", {"xl/media/zeros.bin": b"\0" * (5 * 1024 * 1024)}))
    many = {f"word/media/p{i}.xml": b"" for i in range(evidence.MAX_ZIP_ENTRIES)}
    with pytest.raises(EvidenceError, match="too many parts"):
        check_document(ooxml("docx", many))


def test_docx_with_an_ordinary_large_picture_is_fine():
    # Already-compressed media (a JPEG inside the docx) has a ratio near 1 and passes.
    big = encoded(picture(2000, 1500))
    assert check_document(ooxml("docx", {"word/media/image1.jpeg": big})).extension == "docx"


# --- committed sample files (tests/fixtures/ingest, for the upload views' tests) ----------------

FIXTURES = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def test_fixture_gps_photo():
    path = FIXTURES / "photo_gps_orientation6.jpg"
    with Image.open(path) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    with path.open("rb") as upload:
        result = process_image(upload)
    assert (result.width, result.height) == (300, 400)
    assert len(Image.open(io.BytesIO(result.data)).getexif()) == 0


def test_fixture_truncated_photo():
    with (FIXTURES / "photo_truncated.jpg").open("rb") as upload, pytest.raises(EvidenceError):
        process_image(upload)


# --- large photos: decoded at a reduced scale, stored at most MAX_STORED_SIDE -----------------

def test_12_megapixel_phone_photo_is_decoded_at_half_scale_upright_and_stripped():
    # 4000×3000 with orientation 6 and GPS: what a 12 MP Android phone sends.
    original = encoded(picture(4000, 3000), exif=gps_exif(orientation=6))
    result = process_image(original)
    # Draft mode decodes at 1/2 scale: 2000×1500, turned upright, no further resampling needed.
    assert (result.width, result.height) == (1500, 2000)
    stored = Image.open(io.BytesIO(result.data))
    assert stored.size == (1500, 2000) and len(stored.getexif()) == 0
    assert b"PhoneMaker" not in result.data
    r, g, b = stored.convert("RGB").getpixel((750, 200))  # the blue left half is now the top
    assert b > 120 and r < 90
    assert Image.open(io.BytesIO(result.thumbnail)).size == (240, 320)
    assert len(result.data) < len(original)


@pytest.mark.parametrize("size,expected", [((2400, 1800), (2048, 1536)), ((4624, 3472), (2048, 1538)),
                                           ((2048, 100), (2048, 100))])
def test_stored_photo_is_at_most_max_stored_side(size, expected):
    out = io.BytesIO()
    picture(*size).save(out, "PNG")  # PNG has no draft mode: reduce()/resize after a full decode
    png = process_image(out.getvalue())
    assert (png.width, png.height) == expected
    jpg = process_image(encoded(picture(*size)))  # draft scale, then fitted: never above the limit
    assert max(jpg.width, jpg.height) <= evidence.MAX_STORED_SIDE and jpg.width / jpg.height == pytest.approx(
        size[0] / size[1], rel=0.01)


def test_perceptual_hash_is_bit_for_bit_imagehash_phash():
    # Stored rows carry imagehash.phash values; the faster hash must give the same bits.
    import imagehash

    flat = Image.new("RGB", (50, 40), (90, 120, 30))
    for im in (picture(), picture(seed=1), picture(640, 480).rotate(30), flat, picture().convert("L")):
        assert evidence.perceptual_hash(im) == str(imagehash.phash(im))
