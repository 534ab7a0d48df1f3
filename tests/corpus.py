"""A corpus of bad and unusual files, generated here (nothing binary is committed).

Each :class:`Case` builds its bytes and says what must happen: the file ``loads``
(with a note containing ``text`` when it was converted), or it is ``refused`` with an
:class:`segcore.ImageError` whose message contains ``text``. ``tests/test_corpus.py``
runs every case through :mod:`segcore.io` and through the app's uploaders.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
from PIL import Image

#: The image every mask case is meant for: (H, W).
MASK_FOR = (40, 60)


def encode(img: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **options)
    return buf.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = struct.pack(">I", zlib.crc32(kind + payload))
    return struct.pack(">I", len(payload)) + kind + payload + crc


def craft_png(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 0,
              pixels: bytes | None = b"") -> bytes:
    """A PNG written byte by byte, so its header may say anything; ``pixels=None`` omits IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if pixels is not None:
        out += png_chunk(b"IDAT", zlib.compress(pixels))
    return out + png_chunk(b"IEND", b"")


@dataclass(frozen=True)
class Case:
    name: str  # also the file name the browser sends
    build: Callable[[], bytes]
    outcome: str  # "loads" or "refused"
    text: str = ""  # in the note (loads) or the message (refused)
    mask: bool = False  # a ground-truth mask for an image of MASK_FOR


def _noise(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _png(array: np.ndarray) -> bytes:
    return encode(Image.fromarray(array), "PNG")


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _palette_with_transparency() -> bytes:
    img = Image.fromarray(_noise((20, 30)) % 4, mode="L").convert("P")
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0])
    return encode(img, "PNG", transparency=0)


def _cmyk_jpeg() -> bytes:
    return encode(Image.fromarray(_noise((24, 32, 3))).convert("CMYK"), "JPEG")


def _animated_gif() -> bytes:
    frames = [Image.new("P", (12, 10), k) for k in range(3)]
    for frame in frames:
        frame.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=40)


def _multipage_tiff() -> bytes:
    pages = [Image.fromarray(np.full((16, 20), 60 * k, np.uint8)) for k in range(1, 4)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    return encode(Image.fromarray(_noise((20, 40, 3))), "JPEG", exif=exif.tobytes())


def _tiff(values: np.ndarray) -> bytes:
    return encode(Image.fromarray(values), "TIFF")


def _float_with(bad: float) -> bytes:
    values = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    values[3, 3] = bad
    return _tiff(values)


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("photo.png", _png(_noise((8, 8))))
    return buf.getvalue()


def _big(height: int, width: int) -> Callable[[], bytes]:
    # A gray PNG of a flat picture compresses to little, however many pixels it has.
    def build() -> bytes:
        return craft_png(width, height, pixels=bytes((width + 1) * height))
    return build


def _jpeg_mask() -> bytes:
    rr, cc = np.mgrid[: MASK_FOR[0], : MASK_FOR[1]]
    mask = np.where((rr - 20) ** 2 + (cc - 30) ** 2 < 15**2, 255, 0).astype(np.uint8)
    return encode(Image.fromarray(mask), "JPEG", quality=70)


def _many_labels() -> bytes:
    labels = (np.arange(MASK_FOR[0] * MASK_FOR[1]) % 300).reshape(MASK_FOR).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(labels).save(buf, format="PNG")
    return buf.getvalue()


def _two_values(shape) -> bytes:
    mask = np.zeros(shape, np.uint8)
    mask[:, shape[1] // 2:] = 255
    return _png(mask)


CASES: tuple[Case, ...] = (
    Case("empty.png", lambda: b"", "refused", "the file is empty"),
    Case("truncated.png", lambda: _cut(_png(_noise((64, 64, 3)))), "refused", "truncated"),
    Case("truncated.jpg", lambda: _cut(encode(Image.fromarray(_noise((64, 64, 3))), "JPEG")),
         "refused", "truncated"),
    Case("random.png", lambda: _noise(4096).tobytes(), "refused", "not"),
    Case("page.jpg", lambda: b"<!DOCTYPE html><html><body><h1>404</h1></body></html>",
         "refused", "HTML"),
    Case("bomb.png", lambda: craft_png(100_000, 100_000, pixels=None), "refused",
         "decompression bomb"),
    Case("header-65535.png", lambda: craft_png(65535, 65535, pixels=None), "refused",
         "pixels"),
    Case("one-pixel.png", lambda: _png(np.array([[128]], np.uint8)), "loads"),
    Case("one-row.png", lambda: _png(_noise((1, 500))), "loads"),
    Case("one-column.png", lambda: _png(_noise((500, 1))), "loads"),
    Case("gray-16bit.png",
         lambda: encode(Image.fromarray((np.arange(600, dtype=np.uint16) * 100).reshape(20, 30)),
                        "PNG"), "loads", "16-bit"),
    Case("int32.tif", lambda: _tiff(np.arange(-50, 550, dtype=np.int32).reshape(20, 30) * 1000),
         "loads", "scaled by their range"),
    Case("float32.tif", lambda: _tiff(np.linspace(0, 1, 600, dtype=np.float32).reshape(20, 30)),
         "loads", "already in [0, 1]"),
    Case("float32-range.tif",
         lambda: _tiff(np.linspace(-5, 300, 600, dtype=np.float32).reshape(20, 30)),
         "loads", "min-max scaled"),
    Case("float32-nan.tif", lambda: _float_with(np.nan), "refused", "NaN or infinite"),
    Case("float32-inf.tif", lambda: _float_with(np.inf), "refused", "NaN or infinite"),
    Case("all-nan.tif", lambda: _tiff(np.full((8, 8), np.nan, np.float32)), "refused",
         "NaN or infinite"),
    Case("palette-transparent.png", _palette_with_transparency, "loads", "transparen"),
    Case("cmyk.jpg", _cmyk_jpeg, "loads", "CMYK"),
    Case("animated.gif", _animated_gif, "loads", "first frame"),
    Case("pages.tif", _multipage_tiff, "loads", "first"),
    Case("rotated.jpg", _exif_rotated_jpeg, "loads", "rotated 90°"),
    Case("gray-alpha.png", lambda: encode(Image.new("LA", (30, 20), (90, 128)), "PNG"), "loads",
         "alpha"),
    Case("rgba.png", lambda: encode(Image.fromarray(_noise((20, 30, 4)), "RGBA"), "PNG"),
         "loads", "alpha"),
    Case("one-bit.png", lambda: encode(Image.fromarray(_noise((20, 30)) > 128), "PNG"), "loads"),
    Case("drawing.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
         "refused", "SVG"),
    Case("phone.heic", lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
         "refused", "HEIC"),
    Case("archive.png", _zip, "refused", "ZIP"),
    Case("paper.pdf", lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "refused",
         "PDF"),
    Case("notes.txt", lambda: "Not an image. Ünïcödé.\n".encode() * 40, "refused", "text file"),
    Case("zero-width.png", lambda: craft_png(0, 5, pixels=b""), "refused", "zero width"),
    Case("picture.ppm", lambda: encode(Image.fromarray(_noise((8, 8, 3))), "PPM"), "refused",
         "not a supported format"),
    Case("fifty-megapixels.png", _big(6250, 8000), "loads"),
    Case("over-fifty-megapixels.png", _big(6251, 8000), "refused", "50,000,000"),
    Case("webp.webp", lambda: encode(Image.fromarray(_noise((20, 30, 3))), "WEBP", lossless=True),
         "loads"),
    Case("bitmap.bmp", lambda: encode(Image.fromarray(_noise((20, 30, 3))), "BMP"), "loads"),
    # Ground-truth masks for an image of MASK_FOR.
    Case("mask-smaller.png", lambda: _two_values((20, 30)), "refused", "can be resized",
         mask=True),
    Case("mask-other-image.png", lambda: _two_values((30, 30)), "refused", "proportions differ",
         mask=True),
    Case("mask-300-labels.png", _many_labels, "loads", "label mask with 300 classes", mask=True),
    Case("mask.jpg", _jpeg_mask, "loads", "nearly two-value mask", mask=True),
    Case("mask-blank.png", lambda: _png(np.zeros(MASK_FOR, np.uint8)), "refused",
         "single value", mask=True),
    Case("mask-photo.png", lambda: _png(_noise(MASK_FOR + (3,))), "refused", "colours",
         mask=True),
    Case("mask-archive.png", _zip, "refused", "ZIP", mask=True),
)
