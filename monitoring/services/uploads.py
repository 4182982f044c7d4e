"""Uploaded images checked from their header before any pixel is decoded.

A 164 KB PNG can declare 13 000 × 13 000 pixels: decoded, that is 676 MB (Pillow keeps 4 bytes a
pixel).  So every uploaded image (visit photos, consent scans) is opened lazily — Pillow reads the
header only — and refused when

- it has more than ``IMAGE_MAX_PIXELS`` pixels (40 million; Pillow's own bomb check,
  ``Image.MAX_IMAGE_PIXELS``, is set to the same figure, and its ``DecompressionBombError`` /
  ``DecompressionBombWarning`` answer the same refusal), or
- what would be decoded has more than ``IMAGE_DECODE_MAX_PIXELS`` (12 million, 48 MB decoded):
  PNG and WEBP decode whole; a JPEG larger than ``PHOTO_MAX_SIDE`` is decoded at 1/2, 1/4 or 1/8
  scale (``jpeg_draft``: its long side between ``JPEG_DRAFT_SIDE`` and twice that), so every JPEG
  up to 40 million pixels fits in a few MB.

A request re-encoding a photo then stays under 100 MB (decoded image, its ≤ 2 048-pixel copy,
the output); ``tests/monitoring/test_upload_bombs.py`` measures it.
"""

from __future__ import annotations

from collections.abc import Collection

from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

IMAGE_MAX_PIXELS = 40_000_000
IMAGE_DECODE_MAX_PIXELS = 12_000_000  # 4 bytes a pixel decoded (Pillow keeps RGB as RGBX): 48 MB
PHOTO_MAX_SIDE = 2048  # stored photos are at most this wide/high
JPEG_DRAFT_SIDE = PHOTO_MAX_SIDE // 2  # a large JPEG decodes to a long side of 1 024 to 2 047 pixels

# Every Pillow decode in the process refuses images above the limit (error beyond twice, warning
# between): nothing reaches ``load()`` with a bomb even outside this module.
Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS

FORMAT_LABELS = {"JPEG": "JPG", "PNG": "PNG", "WEBP": "WEBP"}


def _wan(pixels: int) -> str:
    return f"{pixels // 10_000} 万像素"


def jpeg_draft(image: Image.Image) -> None:
    """Ask a JPEG larger than ``PHOTO_MAX_SIDE`` to decode at the strongest 1/2, 1/4 or 1/8 scale
    that keeps its long side ≥ ``JPEG_DRAFT_SIDE`` (header only; no-op for other formats)."""
    if image.format != "JPEG":
        return
    width, height = image.size
    longest = max(width, height)
    if longest <= PHOTO_MAX_SIDE:
        return
    side = JPEG_DRAFT_SIDE
    image.draft(None, (max(1, -(-width * side // longest)), max(1, -(-height * side // longest))))


def image_upload_error(upload: UploadedFile, *, what: str, formats: Collection[str], invalid: str = "") -> str:
    """Why the image ``upload`` is refused (Chinese, naming ``what`` and the file), or ``""``.

    Reads the header (and, for PNG, the chunk checksums through ``verify``) only; the file
    position is left at 0.
    """
    name = upload.name or ""
    allowed = "、".join(FORMAT_LABELS.get(f, f) for f in formats)
    too_big = f"{what}“{name}”尺寸过大：图片不能超过 {_wan(IMAGE_MAX_PIXELS)}，请压缩或缩小后再上传。"
    try:
        upload.seek(0)
        with Image.open(upload) as image:  # lazy: the header only
            fmt = image.format or ""
            width, height = image.size
            if fmt not in formats:
                return f"{what}“{name}”格式不支持（支持 {allowed}）。"
            if width * height > IMAGE_MAX_PIXELS:
                return (
                    f"{what}“{name}”尺寸过大（{width}×{height} 像素）：图片不能超过 "
                    f"{_wan(IMAGE_MAX_PIXELS)}，请压缩或缩小后再上传。"
                )
            jpeg_draft(image)
            decoded_w, decoded_h = image.size
            if decoded_w * decoded_h > IMAGE_DECODE_MAX_PIXELS:
                return (
                    f"{what}“{name}”尺寸过大（{width}×{height} 像素）：{FORMAT_LABELS.get(fmt, fmt)} 图片不能超过 "
                    f"{_wan(IMAGE_DECODE_MAX_PIXELS)}，请压缩或缩小后再上传（JPG 照片可到 {_wan(IMAGE_MAX_PIXELS)}）。"
                )
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return too_big
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return invalid or f"“{name}”不是有效的图片（支持 {allowed}）。"
    finally:
        upload.seek(0)
    return ""


def scan_upload_error(upload: UploadedFile, *, what: str) -> str:
    """A consent scan: a PDF (by its signature) or a JPG/PNG image within the image limits."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return ""
    return image_upload_error(
        upload,
        what=what,
        formats=("JPEG", "PNG"),
        invalid=f"{what}“{upload.name or ''}”须为 PDF、JPG 或 PNG 文件。",
    )
