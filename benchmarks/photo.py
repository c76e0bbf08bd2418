"""The photo pipeline benchmark: one 12-megapixel JPEG with EXIF and GPS through
schools.evidence.process_image, in a fresh Python process so its peak memory is its own.

`python -m benchmarks.photo IMAGE` (run by the bench command) prints one JSON line: seconds,
the child's ru_maxrss, and its resident size just before processing (interpreter + Django).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_jpeg(path: Path, width: int = 4000, height: int = 3000) -> dict:
    """A camera-like JPEG: textured content (so it compresses like a photo, not a flat colour),
    rotated by EXIF orientation, with camera and GPS tags that the pipeline must strip."""
    from PIL import Image, ImageFilter

    # Noise blurred a little: a few MB like a phone's photo, built in C (no Python pixel loop).
    noise = Image.effect_noise((width // 4, height // 4), 64).filter(ImageFilter.GaussianBlur(1))
    base = Image.merge("RGB", [noise, noise.rotate(90, expand=False), noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])
    image = base.resize((width, height), Image.Resampling.BILINEAR)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° CW to view
    exif[0x010F] = "BenchCam"  # Make
    exif[0x0110] = "BC-12"  # Model
    exif[0x8825] = {1: "N", 2: (32.0, 46.0, 51.3), 3: "E", 4: (118.0, 9.0, 7.8)}  # GPSInfo
    image.save(path, "JPEG", quality=92, exif=exif.tobytes())
    return {"width": width, "height": height, "megapixels": round(width * height / 1e6, 1),
            "bytes": path.stat().st_size}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_child(image: Path, timeout: int = 300) -> dict:
    env = dict(os.environ)
    # The pipeline needs settings (messages) but no database: a URL that is never opened keeps
    # the child from starting or joining the embedded server.
    env.setdefault("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "platform")])
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.photo", str(image)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"photo benchmark child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _main(path: str) -> None:
    import django

    django.setup()
    from schools.evidence import process_image

    data = Path(path).read_bytes()
    before = _rss_kib()
    t = time.perf_counter()
    with open(path, "rb") as fh:
        result = process_image(fh)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": round(seconds, 3), "max_rss_mib": round(peak / 1024, 1),
        "rss_before_mib": round(before / 1024, 1), "above_baseline_mib": round((peak - before) / 1024, 1),
        "input_bytes": len(data), "output_bytes": len(result.data), "thumbnail_bytes": len(result.thumbnail),
    }))


if __name__ == "__main__":
    _main(sys.argv[1])
