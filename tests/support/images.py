"""Pictures for upload tests."""
from __future__ import annotations

import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw


def encoded(image: Image.Image, fmt: str = "JPEG", **kwargs) -> bytes:
    """The image's bytes in `fmt` (JPEG at quality 90 unless told otherwise)."""
    if fmt == "JPEG":
        kwargs.setdefault("quality", 90)
    out = io.BytesIO()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def jpeg_bytes(seed: int = 0, size=(64, 48), *, shapes: int = 6, min_side: int = 10) -> bytes:
    """A small distinct picture: `shapes` coloured rectangles on a coloured ground, all drawn from
    `seed` (the same seed, the same bytes; different seeds, different perceptual hashes)."""
    rnd = random.Random(seed)
    img = Image.new("RGB", size, tuple(rnd.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(shapes):
        x0, y0 = rnd.randrange(size[0]), rnd.randrange(size[1])
        draw.rectangle([x0, y0, x0 + rnd.randrange(min_side, 40), y0 + rnd.randrange(min_side, 30)],
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    return encoded(img)


def jpeg_upload(seed: int = 0, **kwargs) -> SimpleUploadedFile:
    """jpeg_bytes(seed, ...) as an uploaded file."""
    return SimpleUploadedFile(f"p{seed}.jpg", jpeg_bytes(seed, **kwargs), content_type="image/jpeg")
