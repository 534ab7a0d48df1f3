"""Tests for segcore.io: a corpus of files made here with Pillow, and every bad input.

Every file is generated in memory or in ``tmp_path``; nothing binary is committed.
Expected values come from the bit depth (``k / 255``, ``k / 65535``) or from
Pillow's own decoding of the same bytes, never from the loader under test.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.transform import resize

import segcore
from segcore.color import label_palette
from segcore.io import (
    ImageError,
    ImageInfo,
    encode_labels_png,
    load_image,
    load_image_with_info,
    load_mask,
    same_proportions,
    preview,
    preview_shape,
    save_png,
)

SEED = 0

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import craft_png, encode  # noqa: E402  (the corpus's own file writers)


# --------------------------------------------------------------------------- helpers


def u8(values) -> np.ndarray:
    """The exact float32 a loader must give for 8-bit samples."""
    return (np.asarray(values, dtype=np.float64) / 255.0).astype(np.float32)


def u16(values) -> np.ndarray:
    return (np.asarray(values, dtype=np.float64) / 65535.0).astype(np.float32)


@pytest.fixture
def rng():
    return np.random.default_rng(SEED)


@pytest.fixture
def gray8(rng):
    return rng.integers(0, 256, (5, 7), dtype=np.uint8)


@pytest.fixture
def rgb8(rng):
    return rng.integers(0, 256, (6, 4, 3), dtype=np.uint8)


def check_image(image: np.ndarray, shape: tuple[int, ...]) -> None:
    assert image.dtype == np.float32
    assert image.shape == shape
    assert image.flags.c_contiguous
    assert 0.0 <= image.min() and image.max() <= 1.0


# --------------------------------------------------------------------------- formats


def test_png_gray_8bit_exact(gray8):
    image, info = load_image_with_info(encode(Image.fromarray(gray8), "PNG"))
    check_image(image, (5, 7, 1))
    np.testing.assert_array_equal(image[:, :, 0], u8(gray8))
    assert info == ImageInfo("PNG", "L", 7, 5, 1, 8, False, ())


def test_png_rgb_exact(rgb8):
    image, info = load_image_with_info(encode(Image.fromarray(rgb8), "PNG"))
    check_image(image, (6, 4, 3))
    np.testing.assert_array_equal(image, u8(rgb8))
    assert (info.mode, info.channels, info.bit_depth, info.had_alpha) == ("RGB", 3, 8, False)


def test_rgb_with_equal_channels_stays_three_channels(gray8):
    rgb = np.repeat(gray8[:, :, None], 3, axis=2)
    image = load_image(encode(Image.fromarray(rgb), "PNG"))
    assert image.shape == (5, 7, 3)
    np.testing.assert_array_equal(image, u8(rgb))


def test_png_16bit_divides_by_65535():
    values = np.array([[0, 1, 255, 256], [1000, 32768, 65534, 65535]], dtype=np.uint16)
    image, info = load_image_with_info(encode(Image.fromarray(values), "PNG"))
    check_image(image, (2, 4, 1))
    assert image[1, 3, 0] == 1.0
    assert image[1, 1, 0] == np.float32(32768 / 65535)
    np.testing.assert_array_equal(image[:, :, 0], u16(values))
    assert info.mode == "I;16" and info.bit_depth == 16 and info.channels == 1
    assert any("65535" in note for note in info.notes)


def test_16bit_range_follows_bit_depth_not_data():
    # A dim 16-bit image must stay dim: no stretching to its own maximum.
    values = np.array([[0, 500], [1000, 1000]], dtype=np.uint16)
    image = load_image(encode(Image.fromarray(values), "PNG"))
    np.testing.assert_array_equal(image[:, :, 0], u16(values))
    assert image.max() == np.float32(1000 / 65535)


def test_png_16bit_colour_keeps_high_byte_and_says_so():
    rows = np.array([[[0, 300, 65535], [40000, 256, 1]]], dtype=">u2")  # 1 x 2 RGB
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter type 0 per row
    image, info = load_image_with_info(craft_png(2, 1, bit_depth=16, colour_type=2, pixels=raw))
    check_image(image, (1, 2, 3))
    np.testing.assert_array_equal(image, u8(rows.astype(np.uint16) >> 8))
    assert info.bit_depth == 16
    assert any("lower bits were dropped" in note for note in info.notes)


def test_png_2bit_gray_follows_bit_depth():
    raw = b"\x00" + bytes([0b00011011])  # filter byte, then samples 0, 1, 2, 3
    image, info = load_image_with_info(craft_png(4, 1, bit_depth=2, colour_type=0, pixels=raw))
    np.testing.assert_array_equal(image[0, :, 0], np.float32([0, 1 / 3, 2 / 3, 1]))
    assert info.bit_depth == 2 and info.mode == "L"


def test_palette_colour_gives_rgb():
    img = Image.new("P", (3, 2))
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 128, 255])
    indices = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    img.putdata(indices.ravel().tolist())
    image, info = load_image_with_info(encode(img, "PNG"))
    check_image(image, (2, 3, 3))
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255]])
    np.testing.assert_array_equal(image, u8(palette[indices]))
    assert info.mode == "P" and info.channels == 3 and not info.had_alpha


def test_palette_gray_gives_one_channel():
    img = Image.new("P", (3, 1))
    img.putpalette([0, 0, 0, 100, 100, 100, 255, 255, 255])
    img.putdata([2, 1, 0])
    image, info = load_image_with_info(encode(img, "PNG"))
    check_image(image, (1, 3, 1))
    np.testing.assert_array_equal(image[0, :, 0], u8([255, 100, 0]))
    assert any("gray" in note for note in info.notes)


def test_palette_transparency_dropped_colour_kept():
    img = Image.new("P", (2, 1))
    img.putpalette([10, 20, 30, 200, 100, 50])
    img.putdata([0, 1])
    image, info = load_image_with_info(encode(img, "PNG", transparency=0))
    np.testing.assert_array_equal(image[0], u8([[10, 20, 30], [200, 100, 50]]))
    assert info.had_alpha
    assert any("transparency dropped" in note for note in info.notes)


def test_la_drops_alpha_to_one_channel(gray8, rng):
    alpha = rng.integers(0, 256, gray8.shape, dtype=np.uint8)
    img = Image.fromarray(np.stack([gray8, alpha], axis=2), mode="LA")
    image, info = load_image_with_info(encode(img, "PNG"))
    check_image(image, (5, 7, 1))
    np.testing.assert_array_equal(image[:, :, 0], u8(gray8))
    assert info.mode == "LA" and info.had_alpha and info.channels == 1


def test_rgba_drops_alpha_keeps_colour_not_composited():
    rgba = np.array([[[10, 20, 30, 0], [200, 100, 50, 128], [1, 2, 3, 255]]], dtype=np.uint8)
    image, info = load_image_with_info(encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    check_image(image, (1, 3, 3))
    # Fully transparent (10, 20, 30) stays (10, 20, 30): not white, not black.
    np.testing.assert_array_equal(image, u8(rgba[:, :, :3]))
    assert info.had_alpha and info.mode == "RGBA"
    assert any("alpha channel dropped" in note for note in info.notes)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF"])
def test_one_bit_images(fmt, rng):
    bits = rng.random((6, 9)) > 0.5
    image, info = load_image_with_info(encode(Image.fromarray(bits), fmt))
    check_image(image, (6, 9, 1))
    np.testing.assert_array_equal(image[:, :, 0], bits.astype(np.float32))
    assert info.mode == "1" and info.bit_depth == 1


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_jpeg_matches_pillow_decoding(mode):
    rows, cols = np.mgrid[0:24, 0:32]
    smooth = (rows * 10).astype(np.uint8)
    across = (cols * 8).astype(np.uint8)
    pixels = smooth if mode == "L" else np.stack([smooth, across, 255 - across], axis=2)
    data = encode(Image.fromarray(pixels, mode=mode), "JPEG", quality=95)
    image, info = load_image_with_info(data)
    channels = 1 if mode == "L" else 3
    check_image(image, (24, 32, channels))
    with Image.open(io.BytesIO(data)) as reference:
        expected = u8(np.asarray(reference)).reshape(24, 32, channels)
    np.testing.assert_array_equal(image, expected)
    assert np.abs(image - u8(pixels).reshape(24, 32, channels)).mean() < 0.02
    assert info.format == "JPEG" and info.mode == mode


@pytest.mark.parametrize(
    ("orientation", "turn", "word"),
    [
        (2, np.fliplr, "mirrored"),
        (3, lambda a: np.rot90(a, 2), "180"),
        (4, np.flipud, "mirrored"),
        (5, lambda a: np.transpose(a, (1, 0, 2)), "diagonal"),
        (6, lambda a: np.rot90(a, -1), "90° clockwise"),
        (7, lambda a: np.rot90(a, 2).transpose(1, 0, 2), "anti-diagonal"),
        (8, lambda a: np.rot90(a, 1), "90° counter-clockwise"),
    ],
)
def test_exif_orientation_applied(orientation, turn, word):
    # 16 rows x 40 columns, a red 8x8 block in the top-left corner, blue elsewhere.
    pixels = np.zeros((16, 40, 3), np.uint8)
    pixels[:, :, 2] = 255
    pixels[:8, :8] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif)
    image, info = load_image_with_info(data)
    with Image.open(io.BytesIO(data)) as raw:
        stored = u8(np.asarray(raw))
    np.testing.assert_array_equal(image, turn(stored))
    transposed = orientation in (5, 6, 7, 8)
    assert image.shape == ((40, 16, 3) if transposed else (16, 40, 3))
    assert (info.height, info.width) == image.shape[:2]
    assert any("EXIF orientation applied" in note and word in note for note in info.notes)
    # Where the red corner must end up, worked out by hand from the EXIF definition.
    corner = {2: (0, -1), 3: (-1, -1), 4: (-1, 0), 5: (0, 0), 6: (0, -1), 7: (-1, -1), 8: (-1, 0)}
    row, col = corner[orientation]
    r = slice(0, 4) if row == 0 else slice(-4, None)
    c = slice(0, 4) if col == 0 else slice(-4, None)
    assert image[r, c, 0].mean() > 0.9 and image[r, c, 2].mean() < 0.1


def test_orientation_of_lossless_16bit_png_is_exact():
    values = np.arange(6, dtype=np.uint16).reshape(2, 3) * 10_000
    exif = Image.Exif()
    exif[0x0112] = 6
    image, info = load_image_with_info(encode(Image.fromarray(values), "PNG", exif=exif))
    np.testing.assert_array_equal(image[:, :, 0], np.rot90(u16(values), -1))
    assert (info.width, info.height, info.bit_depth) == (2, 3, 16)


def test_tiff_orientation_tag_applied_and_noted():
    # Pillow's TIFF reader turns the pixels during load itself; the note must still appear.
    values = np.arange(6, dtype=np.float32).reshape(2, 3) / 10
    image, info = load_image_with_info(encode(Image.fromarray(values), "TIFF", tiffinfo={274: 8}))
    np.testing.assert_array_equal(image[:, :, 0], np.rot90(values, 1))
    assert "EXIF orientation applied (rotated 90° counter-clockwise)" in info.notes


def test_corrupt_exif_warning_becomes_a_note():
    plain = encode(Image.new("RGB", (8, 8), (0, 0, 0)), "JPEG")
    app1 = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + b"\xff\xffgarbage"
    data = plain[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + plain[2:]
    image, info = load_image_with_info(data)  # warnings are errors here: none may leak
    assert image.shape == (8, 8, 3)
    assert any(note.startswith("Pillow warned: Corrupt EXIF data") for note in info.notes)


def test_jpeg_without_orientation_has_no_note(rgb8):
    image, info = load_image_with_info(encode(Image.fromarray(rgb8), "JPEG"))
    assert image.shape == (6, 4, 3)
    assert not any("orientation" in note for note in info.notes)


def test_tiff_8bit(gray8, rgb8):
    image = load_image(encode(Image.fromarray(gray8), "TIFF"))
    np.testing.assert_array_equal(image[:, :, 0], u8(gray8))
    np.testing.assert_array_equal(load_image(encode(Image.fromarray(rgb8), "TIFF")), u8(rgb8))


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_tiff_16bit(mode):
    values = np.array([[0, 1, 32768], [40000, 65534, 65535]], dtype=np.uint16)
    img = Image.fromarray(values)
    if mode == "I;16B":
        img = Image.frombytes("I;16B", (3, 2), values.astype(">u2").tobytes())
    image, info = load_image_with_info(encode(img, "TIFF"))
    check_image(image, (2, 3, 1))
    np.testing.assert_array_equal(image[:, :, 0], u16(values))
    assert info.mode == mode and info.bit_depth == 16


def test_tiff_float_in_unit_range_kept_exactly():
    values = np.array([[0.0, 0.25, 1e-7], [0.5, 0.999, 1.0]], dtype=np.float32)
    image, info = load_image_with_info(encode(Image.fromarray(values), "TIFF"))
    check_image(image, (2, 3, 1))
    np.testing.assert_array_equal(image[:, :, 0], values)
    assert info.mode == "F" and info.bit_depth == 32
    assert any("kept as they are" in note for note in info.notes)


def test_tiff_float_other_range_min_max_scaled():
    values = np.array([[-5.0, 0.0], [7.5, 15.0]], dtype=np.float32)
    image, info = load_image_with_info(encode(Image.fromarray(values), "TIFF"))
    expected = ((values.astype(np.float64) + 5.0) / 20.0).astype(np.float32)
    np.testing.assert_array_equal(image[:, :, 0], expected)
    assert any("min-max scaled" in note and "[-5, 15]" in note for note in info.notes)


def test_tiff_float_constant_outside_range_becomes_zero():
    values = np.full((2, 2), 3.0, dtype=np.float32)
    image, info = load_image_with_info(encode(Image.fromarray(values), "TIFF"))
    np.testing.assert_array_equal(image, np.zeros((2, 2, 1), np.float32))
    assert any("constant" in note for note in info.notes)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_tiff_float_nan_or_inf_refused(bad):
    values = np.array([[0.0, 0.5], [bad, 1.0]], dtype=np.float32)
    with pytest.raises(ImageError, match="NaN or infinite"):
        load_image(encode(Image.fromarray(values), "TIFF"))


def test_32bit_integer_tiff_opens_scaled_by_its_range_with_a_note():
    values = np.array([[-3, 0], [5, 70000]], dtype=np.int32)
    image, info = load_image_with_info(encode(Image.fromarray(values), "TIFF"))
    expected = (values - values.min()) / (values.max() - values.min())
    np.testing.assert_allclose(image[:, :, 0], expected, atol=1e-7)
    assert "32-bit signed integer values in [-3, 70000] scaled by their range" in info.notes[0]
    constant = load_image_with_info(encode(Image.fromarray(np.full((2, 2), 7, np.int32)), "TIFF"))
    assert not constant[0].any() and "constant 32-bit" in constant[1].notes[0]


def test_multichannel_float_tiff_is_explained():
    tifffile = pytest.importorskip("tifffile")  # installed with scikit-image
    buf = io.BytesIO()
    tifffile.imwrite(buf, np.full((2, 3, 3), 0.5, np.float32), photometric="rgb")
    with pytest.raises(ImageError, match="looks like a TIFF image.*variant"):
        load_image(buf.getvalue())


def test_bmp_exact(gray8, rgb8):
    np.testing.assert_array_equal(load_image(encode(Image.fromarray(rgb8), "BMP")), u8(rgb8))
    image, info = load_image_with_info(encode(Image.fromarray(gray8), "BMP"))
    np.testing.assert_array_equal(image[:, :, 0], u8(gray8))
    assert info.format == "BMP" and info.channels == 1


def test_webp_lossless_exact(rgb8):
    image, info = load_image_with_info(encode(Image.fromarray(rgb8), "WEBP", lossless=True))
    check_image(image, (6, 4, 3))
    np.testing.assert_array_equal(image, u8(rgb8))
    assert info.format == "WEBP"


def test_animated_gif_first_frame():
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255]
    frames = []
    for index in range(3):
        frame = Image.new("P", (5, 4), index)
        frame.putpalette(palette)
        frame.putpixel((0, 0), (index + 1) % 3)
        frames.append(frame)
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    image, info = load_image_with_info(data)
    check_image(image, (4, 5, 3))
    expected = np.zeros((4, 5, 3), np.float32)
    expected[:, :, 0] = 1.0
    expected[0, 0] = (0.0, 1.0, 0.0)
    np.testing.assert_array_equal(image, expected)
    assert info.format == "GIF"
    assert "first frame of an animated GIF used (3 frames)" in info.notes


def test_gray_gif_gives_one_channel(gray8):
    image = load_image(encode(Image.fromarray(gray8), "GIF"))
    np.testing.assert_array_equal(image[:, :, 0], u8(gray8))


def test_cmyk_tiff_converted_to_rgb():
    cmyk = np.array(
        [[[0, 0, 0, 0], [0, 0, 0, 255], [255, 0, 0, 0], [0, 255, 0, 0], [0, 0, 255, 0]]],
        dtype=np.uint8,
    )
    data = encode(Image.fromarray(cmyk, mode="CMYK"), "TIFF")
    image, info = load_image_with_info(data)
    check_image(image, (1, 5, 3))
    white, black, cyan, magenta, yellow = [1, 1, 1], [0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]
    expected = np.array([white, black, cyan, magenta, yellow], np.float32)
    np.testing.assert_array_equal(image[0], expected)
    assert info.mode == "CMYK" and info.channels == 3
    assert any("CMYK converted to RGB" in note for note in info.notes)


def test_cmyk_jpeg_matches_pillow_conversion(rng):
    cmyk = rng.integers(0, 256, (8, 8, 4), dtype=np.uint8)
    data = encode(Image.fromarray(cmyk, mode="CMYK"), "JPEG", quality=95)
    image, info = load_image_with_info(data)
    with Image.open(io.BytesIO(data)) as reference:
        assert reference.mode == "CMYK"
        expected = u8(np.asarray(reference.convert("RGB")))
    np.testing.assert_array_equal(image, expected)
    assert info.mode == "CMYK"


# --------------------------------------------------------------------------- sources


class ReadOnly:
    """Just .read() and .name, like an upload widget's file object."""

    def __init__(self, data: bytes, name: str):
        self._data, self.name = data, name

    def read(self) -> bytes:
        return self._data


@pytest.mark.parametrize(
    "kind", ["str", "path", "bytes", "bytearray", "memoryview", "bytesio", "open_file", "read_only"]
)
def test_every_source_type_gives_the_same_image(kind, rgb8, tmp_path):
    data = encode(Image.fromarray(rgb8), "PNG")
    path = tmp_path / "picture.png"
    path.write_bytes(data)
    if kind == "open_file":
        with open(path, "rb") as handle:
            image = load_image(handle)
    else:
        source = {
            "str": str(path),
            "path": path,
            "bytes": data,
            "bytearray": bytearray(data),
            "memoryview": memoryview(data),
            "bytesio": io.BytesIO(data),
            "read_only": ReadOnly(data, "upload.png"),
        }[kind]
        image = load_image(source)
    check_image(image, (6, 4, 3))
    np.testing.assert_array_equal(image, u8(rgb8))


def test_file_object_read_from_its_start_like_pillow(rgb8):
    stream = io.BytesIO()
    Image.fromarray(rgb8).save(stream, format="PNG")  # leaves the position at the end
    np.testing.assert_array_equal(load_image(stream), u8(rgb8))
    np.testing.assert_array_equal(load_image(stream), u8(rgb8))  # and again


class Unseekable(io.RawIOBase):
    def __init__(self, data: bytes):
        self._stream = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        return self._stream.readinto(buffer)


def test_unseekable_stream_read_from_where_it_stands(rgb8):
    stream = Unseekable(b"junk" + encode(Image.fromarray(rgb8), "PNG"))
    assert stream.read(4) == b"junk"
    np.testing.assert_array_equal(load_image(stream), u8(rgb8))
    with pytest.raises(ImageError, match="the file is empty \\(nothing to read"):
        load_image(stream)


def test_error_message_names_the_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n")
    with pytest.raises(ImageError, match="notes.txt"):
        load_image(path)
    with pytest.raises(ImageError, match="upload.png"):
        load_image(ReadOnly(b"\x00\x01\x02", "upload.png"))


# --------------------------------------------------------------------------- bad input

SUPPORTED = "supported formats are PNG, JPEG, TIFF, BMP, WebP and GIF"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    for source in (path, b"", io.BytesIO()):
        with pytest.raises(ImageError, match="the file is empty"):
            load_image(source)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF"])
def test_truncated_file(fmt, rng):
    noise = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    img = Image.fromarray(noise)
    if fmt == "GIF":
        img = img.convert("P")
    data = encode(img, fmt)
    with pytest.raises(ImageError, match="truncated"):
        load_image(data[: len(data) // 2])


def test_png_cut_inside_header_is_explained(rgb8):
    data = encode(Image.fromarray(rgb8), "PNG")
    with pytest.raises(ImageError, match="looks like a PNG image, but it is truncated"):
        load_image(data[:20])


def test_text_file_is_not_an_image(tmp_path):
    path = tmp_path / "readme.txt"
    path.write_text("This is not an image. Ünïcödé too.\n" * 50, encoding="utf-8")
    with pytest.raises(ImageError, match="text file, not an image we can read") as caught:
        load_image(path)
    assert SUPPORTED in str(caught.value)


def test_random_bytes_are_not_an_image(rng):
    data = rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(ImageError, match="not an image we can read") as caught:
        load_image(data)
    assert SUPPORTED in str(caught.value)


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF document"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', "SVG drawing"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG drawing"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "HTML"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (b"PK\x03\x04" + bytes(40), "ZIP archive"),
    ],
)
def test_unsupported_document_formats(data, named):
    with pytest.raises(ImageError, match="not a supported image format") as caught:
        load_image(data)
    assert named in str(caught.value) and SUPPORTED in str(caught.value)


@pytest.mark.parametrize("fmt", ["PPM", "ICO", "TGA"])
def test_formats_pillow_knows_but_we_do_not_accept(fmt, rgb8):
    with pytest.raises(ImageError, match=f"this is a {fmt} image, which is not a supported format"):
        load_image(encode(Image.fromarray(rgb8), fmt))


def test_decompression_bomb_from_declared_size():
    # 100000 x 100000 is far beyond Pillow's guard; only the header exists.
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image(craft_png(100_000, 100_000, pixels=None))


@pytest.mark.parametrize("side", [12, 30])  # 144 px: Pillow warns; 900 px: Pillow errors
def test_decompression_bomb_guard_becomes_image_error(side, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    data = encode(Image.new("L", (side, side)), "PNG")
    # Make sure each case exercises the Pillow path it is meant to.
    if side == 12:
        with pytest.warns(Image.DecompressionBombWarning):
            Image.open(io.BytesIO(data)).close()
    else:
        with pytest.raises(Image.DecompressionBombError):
            Image.open(io.BytesIO(data))
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")
        with pytest.raises(ImageError, match="decompression bomb"):
            load_image(data, max_pixels=None)
    assert heard == []  # the warning did not leak out


def test_max_pixels_checked_from_header_before_decoding():
    # The header says 8000 x 8000 and there are no pixels at all: decoding would
    # fail as truncated, so the size message proves the check comes first.
    data = craft_png(8000, 8000, pixels=None)
    with pytest.raises(ImageError, match=r"8000 × 8000 = 64,000,000 pixels.*50,000,000"):
        load_image(data)
    with pytest.raises(ImageError, match="truncated"):
        load_image(data, max_pixels=None)


def test_max_pixels_limit_is_inclusive(gray8):
    data = encode(Image.fromarray(gray8), "PNG")  # 35 pixels
    assert load_image(data, max_pixels=35).shape == (5, 7, 1)
    with pytest.raises(ImageError, match="too large.*limit of 34 pixels"):
        load_image(data, max_pixels=34)


@pytest.mark.parametrize("max_pixels", [0, -1, 1.5, True, "10"])
def test_invalid_max_pixels_is_a_value_error(max_pixels, gray8):
    with pytest.raises(ValueError, match="max_pixels must be a positive integer") as caught:
        load_image(encode(Image.fromarray(gray8), "PNG"), max_pixels=max_pixels)
    assert not isinstance(caught.value, ImageError)


@pytest.mark.parametrize(
    "data",
    [
        craft_png(0, 5, pixels=b""),
        craft_png(5, 0, pixels=b""),
        b"GIF89a" + struct.pack("<HH", 0, 4) + b"\x00\x00\x00;",
        b"BM" + bytes(12) + struct.pack("<Iii", 40, 3, 0) + bytes(28),
    ],
    ids=["png-width", "png-height", "gif", "bmp"],
)
def test_zero_sized_image(data):
    with pytest.raises(ImageError, match="zero width or height"):
        load_image(data)


def test_missing_path(tmp_path):
    missing = tmp_path / "nowhere" / "photo.png"
    with pytest.raises(ImageError, match="file not found"):
        load_image(missing)
    with pytest.raises(ImageError, match="file not found"):
        load_image(str(missing))


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ImageError, match="folder, not a file"):
        load_image(tmp_path)


def test_text_mode_file_object(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"whatever")
    with open(path, encoding="latin-1") as handle:
        with pytest.raises(ImageError, match="binary mode"):
            load_image(handle)


class Broken:
    def read(self):
        raise OSError("connection reset")


@pytest.mark.parametrize("source", [42, None, 3.5, ["a.png"], np.zeros((2, 2)), Broken()])
def test_wrong_source_types(source):
    expected = "expected a path, bytes or a binary file object|could not be read"
    with pytest.raises(ImageError, match=expected):
        load_image(source)


def test_damaged_files_never_raise_anything_else(rng, rgb8):
    # Truncate and corrupt valid files at many places: the loader must either
    # give a valid image or an ImageError, never any other exception.
    originals = [
        encode(Image.fromarray(rgb8), "PNG"),
        encode(Image.fromarray(rgb8), "JPEG"),
        encode(Image.fromarray(rgb8), "TIFF"),
        encode(Image.fromarray(rgb8), "BMP"),
        encode(Image.fromarray(rgb8), "WEBP", lossless=True),
        encode(Image.fromarray(rgb8).convert("P"), "GIF"),
        encode(Image.fromarray(np.arange(24, dtype=np.uint16).reshape(4, 6) * 999), "PNG"),
    ]
    outcomes = {"loaded": 0, "refused": 0}
    for data in originals:
        variants = [data[:cut] for cut in np.linspace(1, len(data) - 1, 12).astype(int)]
        for _ in range(12):
            damaged = bytearray(data)
            where = rng.integers(0, len(data), 3)
            damaged[where[0]] ^= 0xFF
            damaged[where[1]] = int(rng.integers(0, 256))
            damaged[where[2]] ^= 0x10
            variants.append(bytes(damaged))
        for variant in variants:
            try:
                image = load_image(variant, max_pixels=10_000)
            except ImageError:
                outcomes["refused"] += 1
            else:
                assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] in (1, 3)
                assert np.all(np.isfinite(image)) and 0.0 <= image.min() and image.max() <= 1.0
                outcomes["loaded"] += 1
    assert outcomes["refused"] > 0 and outcomes["loaded"] > 0


def test_unexpected_decoder_failure_is_still_an_image_error(monkeypatch, gray8):
    import segcore.io

    def explode(*args, **kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(segcore.io, "_to_array", explode)
    with pytest.raises(ImageError, match="could not be decoded.*RuntimeError: decoder exploded"):
        load_image(encode(Image.fromarray(gray8), "PNG"))


def test_image_info_is_frozen(gray8):
    _, info = load_image_with_info(encode(Image.fromarray(gray8), "PNG"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.width = 3  # type: ignore[misc]


def test_package_exports_the_same_objects():
    assert segcore.load_image is load_image
    assert segcore.ImageError is ImageError
    assert segcore.preview is preview
    assert issubclass(ImageError, ValueError)


# --------------------------------------------------------------------------- preview


@pytest.mark.parametrize(
    ("shape", "max_pixels"),
    [((3000, 4000), 1_000_000), ((1000, 1000), 999_999), ((2000, 500), 10_000),
     ((7, 5), 35), ((7, 5), 34), ((1, 10_000), 100), ((10_000, 3), 12), ((5, 5), 1)],
)
def test_preview_shape_respects_limit_and_aspect(shape, max_pixels):
    height, width = preview_shape(shape, max_pixels=max_pixels)
    assert 1 <= height <= shape[0] and 1 <= width <= shape[1]
    assert height * width <= max_pixels
    if shape[0] * shape[1] <= max_pixels:
        assert (height, width) == shape
    scale = np.sqrt(max_pixels / (shape[0] * shape[1]))
    if min(shape) * scale >= 1:  # aspect can only be kept while both sides stay >= 1 pixel
        assert abs(height - shape[0] * min(scale, 1)) < 1
        assert abs(width - shape[1] * min(scale, 1)) < 1


def test_preview_shape_extreme_aspect_fills_the_budget():
    assert preview_shape((1, 10_000), max_pixels=100) == (1, 100)
    assert preview_shape((10_000, 3), max_pixels=12) == (12, 1)
    assert preview_shape((5, 10_000), max_pixels=20_000) == (3, 6324)


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_preview_downscales_like_skimage(channels, rng):
    shape = (300, 200) if channels is None else (300, 200, channels)
    image = rng.random(shape, dtype=np.float32)
    small = preview(image, max_pixels=6000)
    assert small.shape[:2] == preview_shape(shape, max_pixels=6000) == (94, 63)
    assert small.shape[2:] == shape[2:]
    assert small.dtype == np.float32 and 0.0 <= small.min() and small.max() <= 1.0
    # The fast path (Pillow) against the plain one (scikit-image) on a smooth picture and
    # on noise: the same picture, up to the anti-aliasing filter's shape.
    expected = resize(image, small.shape, order=1, anti_aliasing=True)
    assert np.abs(small - expected).mean() < 0.03
    smooth = resize(segcore.synthetic.make("shapes").image, shape[:2] + (1,))[:, :, 0]
    smooth = smooth if channels is None else np.repeat(smooth[:, :, None], channels, 2)
    smooth = smooth.astype(np.float32)
    near = resize(smooth, small.shape, order=1, anti_aliasing=True)
    fast = preview(smooth, max_pixels=6000)
    assert np.abs(fast - near).max() < 0.1 and np.abs(fast - near).mean() < 0.005
    assert image.shape == shape  # the input is untouched


def test_preview_small_image_returned_as_is():
    image = np.zeros((10, 20, 3), np.float32)
    assert preview(image, max_pixels=200) is image


def test_preview_keeps_flat_regions():
    image = np.zeros((400, 400, 1), np.float32)
    image[:, 200:] = 1.0
    small = preview(image, max_pixels=100 * 100)
    assert small.shape == (100, 100, 1)
    assert np.all(small[:, :45] == 0.0) and np.all(small[:, 55:] == 1.0)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((10, 10), np.uint8), "must be float"),
        (np.zeros(10, np.float32), r"\(H, W\) or \(H, W, C\)"),
        (np.zeros((2, 2, 2, 2), np.float32), r"\(H, W\) or \(H, W, C\)"),
        ([[0.0, 1.0]], r"\(H, W\) or \(H, W, C\)"),
    ],
)
def test_preview_rejects_bad_images(image, message):
    with pytest.raises(ValueError, match=message):
        preview(image, max_pixels=4)


def test_preview_rejects_bad_max_pixels():
    with pytest.raises(ValueError, match="max_pixels"):
        preview(np.zeros((4, 4), np.float32), max_pixels=0)


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize(
    ("array", "mode"),
    [
        (np.arange(12, dtype=np.uint8).reshape(3, 4) * 20, "L"),
        (np.arange(12, dtype=np.uint8).reshape(3, 4, 1), "L"),
        (np.arange(36, dtype=np.uint8).reshape(3, 4, 3) * 7, "RGB"),
        (np.arange(48, dtype=np.uint8).reshape(3, 4, 4) * 5, "RGBA"),
        (np.array([[0, 1, 300], [40000, 65534, 65535]], dtype=np.uint16), "I;16"),
        (np.array([[0, 1, 300], [40000, 65534, 65535]], dtype=">u2"), "I;16"),
    ],
)
def test_save_png_round_trip(array, mode, tmp_path):
    path = tmp_path / "out.png"
    save_png(path, array)
    buf = io.BytesIO()
    save_png(buf, array)
    assert buf.getvalue() == path.read_bytes()
    with Image.open(path) as png:
        assert png.format == "PNG" and png.mode == mode
        stored = array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array
        np.testing.assert_array_equal(np.asarray(png), stored)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((2, 2), np.float32), "uint8 or uint16"),
        (np.zeros((2, 2), np.int32), "uint8 or uint16"),
        (np.zeros((2, 2, 3), np.uint16), r"uint16 PNG must have shape \(H, W\)"),
        (np.zeros((2, 2, 2), np.uint8), "uint8 PNG must have shape"),
        (np.zeros((2, 2, 3, 1), np.uint8), "uint8 PNG must have shape"),
        (np.zeros((0, 3), np.uint8), "empty"),
    ],
)
def test_save_png_rejects(array, message):
    with pytest.raises(ValueError, match=message):
        save_png(io.BytesIO(), array)


def test_encode_labels_png_8bit_up_to_255():
    labels = np.array([[0, 1, 2], [255, 7, 0]], dtype=np.int32)
    data = encode_labels_png(labels)
    with Image.open(io.BytesIO(data)) as png:
        # A palette PNG: the values are the labels, an image viewer shows their colours.
        assert png.mode == "P"
        np.testing.assert_array_equal(np.asarray(png), labels)
        colours = np.asarray(png.convert("RGB"))
    np.testing.assert_array_equal(colours[0, 1], np.round(label_palette(1)[1] * 255))
    assert colours[0, 0].tolist() == [0, 0, 0]
    truth, ignore, _ = load_mask(data, zero="ignore")
    np.testing.assert_array_equal(truth, labels)
    assert ignore == 0


def test_encode_labels_png_16bit_above_255(rng):
    labels = rng.integers(0, 1000, (20, 30)).astype(np.int32)
    labels[0, 0] = 256
    data = encode_labels_png(labels)
    with Image.open(io.BytesIO(data)) as png:
        assert png.mode == "I;16"
        np.testing.assert_array_equal(np.asarray(png), labels)
    # The loader reads the same file by its bit depth, consistently.
    np.testing.assert_array_equal(load_image(data)[:, :, 0], u16(labels))


def test_encode_labels_png_accepts_bool_mask():
    mask = np.array([[True, False], [False, True]])
    with Image.open(io.BytesIO(encode_labels_png(mask))) as png:
        np.testing.assert_array_equal(np.asarray(png), mask.astype(np.uint8))


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([[0, -1]], np.int32), r"\[0, 65535\].*got \[-1, 0\]"),
        (np.array([[0, 65536]], np.int64), r"\[0, 65535\]"),
        (np.array([[0.0, 1.0]]), "integer"),
        (np.zeros((2, 2, 1), np.int32), "2-D"),
        (np.zeros((0, 4), np.int32), "empty"),
    ],
)
def test_encode_labels_png_rejects(labels, message):
    with pytest.raises(ValueError, match=message):
        encode_labels_png(labels)


def test_paths_as_path_objects_are_not_confused_with_bytes(tmp_path, gray8):
    # Bytes are contents, never a path: a path spelled as bytes is not an image.
    path = tmp_path / "g.png"
    path.write_bytes(encode(Image.fromarray(gray8), "PNG"))
    assert load_image(Path(path)).shape == (5, 7, 1)
    with pytest.raises(ImageError, match="not an image"):
        load_image(str(path).encode())


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_load_mask_conventions():
    shape = (4, 6)
    binary = np.zeros(shape, np.uint8)
    binary[:, 3:] = 255
    truth, ignore, _ = load_mask(_png(binary), shape=shape)
    assert ignore is None
    np.testing.assert_array_equal(truth, np.where(binary, 2, 1))

    ones = (binary > 0).astype(np.uint8)  # 0/1 is black and white too
    np.testing.assert_array_equal(load_mask(_png(ones), shape=shape)[0], truth)

    labels = np.array([[0, 1, 2, 3, 4, 5]] * 4, np.uint8)
    kept, ignore, _ = load_mask(_png(labels), shape=shape)
    np.testing.assert_array_equal(kept, labels)
    assert ignore is None
    assert load_mask(_png(labels), shape=shape, zero="ignore")[1] == 0

    wide = np.arange(24, dtype=np.uint16).reshape(shape) * 1000  # 16-bit label PNG
    buf = io.BytesIO()
    save_png(buf, wide)
    np.testing.assert_array_equal(load_mask(buf.getvalue(), shape=shape)[0], wide)

    colour = np.zeros(shape + (3,), np.uint8)
    colour[:, 2:4] = (200, 0, 0)
    colour[:, 4:] = (255, 255, 255)
    np.testing.assert_array_equal(load_mask(_png(colour), shape=shape)[0],
                                  np.array([[1, 1, 2, 2, 3, 3]] * 4))

    with pytest.raises(ValueError, match="image's size"):
        load_mask(_png(binary), shape=(5, 6))
    with pytest.raises(ValueError, match="single value"):
        load_mask(_png(np.zeros(shape, np.uint8)), shape=shape)
    with pytest.raises(ValueError, match="text file"):
        load_mask(b"not a mask", shape=shape)
    with pytest.raises(ImageError, match="colours"):
        noise = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
        load_mask(_png(noise))


# ------------------------------------------------------------------ masks as people have them


def _jpeg(array: np.ndarray, quality: int = 75) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _horse_like_mask(shape=(120, 160)) -> np.ndarray:
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    h, w = shape
    inside = ((rr - h / 2) / (h / 3)) ** 2 + ((cc - w / 2) / (w / 3)) ** 2 < 1
    return np.where(inside, 255, 0).astype(np.uint8)


@pytest.mark.parametrize("route", ["jpeg", "png made from a jpeg", "colour jpeg"])
def test_a_jpeg_mask_is_read_as_two_classes_with_a_note(route):
    mask = _horse_like_mask()
    data = _jpeg(mask if route != "colour jpeg" else np.dstack([mask] * 3))
    if route == "png made from a jpeg":
        data = _png(np.asarray(Image.open(io.BytesIO(data))))
    values = np.unique(np.asarray(Image.open(io.BytesIO(data))))
    assert len(values) > 8, "the test needs a mask with compression noise"
    truth, ignore, note = load_mask(data, shape=mask.shape)
    assert ignore is None and set(np.unique(truth)) == {1, 2}
    # Against what the data's README prescribes for such masks: binarise at the middle.
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    np.testing.assert_array_equal(truth, np.where(decoded > 127, 2, 1))
    assert np.mean(truth == np.where(mask > 127, 2, 1)) > 0.99
    assert "nearly two-value mask" in note and "JPEG" in note


def test_a_label_mask_with_few_values_or_a_real_middle_class_keeps_its_classes():
    three = np.zeros((60, 90), np.uint8)
    three[:, 30:60], three[:, 60:] = 128, 255  # a real middle class, a third of the pixels
    truth, _, note = load_mask(_png(three))
    assert set(np.unique(truth)) == {0, 128, 255} and "label mask with 3 classes" in note
    ramp = np.repeat(np.arange(0, 250, 10, dtype=np.uint8)[None], 40, axis=0)  # 25 evenly used
    assert len(np.unique(load_mask(_png(ramp))[0])) == 25


def test_a_gray_mask_saved_in_colour_is_read_as_gray():
    mask = np.zeros((8, 8), np.uint8)
    mask[:, 4:] = 255
    truth, _, note = load_mask(_png(np.dstack([mask] * 3)))
    np.testing.assert_array_equal(truth, np.where(mask, 2, 1))
    assert "read as gray" in note and "two-value mask" in note


def test_a_smaller_mask_of_the_same_proportions_is_offered_a_resize():
    mask = _horse_like_mask((30, 40))
    with pytest.raises(ImageError, match="can be resized to fit"):
        load_mask(_png(mask), shape=(300, 400))
    truth, _, note = load_mask(_png(mask), shape=(301, 400), resize=True)
    assert truth.shape == (301, 400) and set(np.unique(truth)) == {1, 2}
    assert "resized from 40 × 30 to the image's 400 × 301" in note
    # Nearest pixel: the resized mask is the small one's pixels repeated, no new class.
    tenfold = load_mask(_png(mask), shape=(300, 400), resize=True)[0]
    np.testing.assert_array_equal(tenfold[::10, ::10], np.where(mask > 127, 2, 1))
    with pytest.raises(ImageError, match="proportions differ"):
        load_mask(_png(mask), shape=(400, 300), resize=True)


@pytest.mark.parametrize("a, b, same", [
    ((300, 400), (3000, 4000), True), ((361, 481), (3000, 4000), True),
    ((195, 195), (960, 960), True), ((200, 400), (300, 400), False),
    ((0, 4), (0, 4), False), ((1, 500), (2, 1000), True), ((1, 500), (10, 1000), False)])
def test_same_proportions(a, b, same):
    assert same_proportions(a, b) is same and same_proportions(b, a) is same


@pytest.mark.data
def test_every_weizmann_horse_mask_reads_as_two_classes_and_fits_its_photo():
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "weizmann-horse"
    if not root.is_dir():
        pytest.skip(f"no data at {root}")
    masks = sorted((root / "figure_ground").glob("*.jpg"))
    assert len(masks) >= 200
    for path in masks[::9]:  # every ninth keeps the test quick; all pass (checked by hand)
        truth, _, note = load_mask(path.read_bytes())
        raw = np.asarray(Image.open(path).convert("L"))
        np.testing.assert_array_equal(truth, np.where(raw > 127, 2, 1))  # the README's rule
        with Image.open(root / "rgb" / path.name) as photo:
            size = (photo.height, photo.width)
        assert load_mask(path.read_bytes(), shape=size, resize=True)[0].shape == size
