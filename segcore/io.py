"""Loading image files into segcore's image convention, and writing label PNGs.

This is the only module that converts from files: everything it returns is a
``float32 (H, W, C)`` array with ``C`` 1 or 3 and values in ``[0, 1]``.

The rules, chosen to be predictable rather than clever:

- The value range follows the file's declared bit depth, never the data:
  integer samples are divided by ``2**bits - 1`` (255 for 8-bit, 65535 for
  16-bit; 1-bit images give 0 and 1). Floating-point TIFFs are the one
  exception, because a float file declares no range: values already inside
  ``[0, 1]`` are kept as they are, any other range is min-max scaled to
  ``[0, 1]`` (and a note says so); NaN or infinite values are refused.
  Signed and 32-bit integer images are refused rather than guessed at.
  Pillow decodes colour images at 8 bits per channel, so a 16-bit colour PNG
  or TIFF loses its lower 8 bits; a note says so.
- The number of channels follows the file's pixel mode: gray modes
  (``1``, ``L``, ``LA``, ``I;16``, ``I``, ``F``) give 1 channel, colour modes
  (``RGB``, ``RGBA``, ``CMYK``, ``YCbCr``) give 3, even when the three colour
  channels happen to be equal. Palette images give 3 channels, or 1 when every
  colour of the palette is a gray.
- Alpha is dropped and the colour is kept as stored, not blended with any
  background: segmentation should see the pixel values the file holds.
- The EXIF orientation tag is applied, so the array is the right way up.
- Of an animated or multi-page file only the first frame is read.

Whatever goes wrong with the input, :func:`load_image` raises
:class:`ImageError` (a ``ValueError``) with a message meant for a person.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from segcore.color import label_palette

__all__ = [
    "ImageError",
    "ImageInfo",
    "SUPPORTED_FORMATS",
    "SUPPORTED_EXTENSIONS",
    "load_image",
    "load_image_with_info",
    "preview",
    "preview_shape",
    "save_png",
    "png_bytes",
    "encode_labels_png",
    "encode_mask_png",
    "load_mask",
    "same_proportions",
    "NOISY_MASK_VALUES",
    "NOISY_MASK_SHARE",
    "resize_labels",
    "scale_index",
    "content_key",
    "describe_image",
]

#: Formats :func:`load_image` reads, as people name them.
SUPPORTED_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WebP", "GIF")
#: File name extensions of those formats, e.g. for an upload widget.
SUPPORTED_EXTENSIONS = ("png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "gif")

# Pillow's names. Its JPEG opener also returns MPO images (phone JPEGs that carry
# a second picture); those are reported as JPEG.
_PILLOW_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")
_SUPPORTED_TEXT = "supported formats are PNG, JPEG, TIFF, BMP, WebP and GIF"

# Lookup tables give the exact float32 of k / (2**bits - 1) and avoid a float64 copy.
_U8_TO_FLOAT = (np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
_U16_TO_FLOAT = (np.arange(65536, dtype=np.float64) / 65535.0).astype(np.float32)

_KEPT = "kept as stored, not blended with a background"

_ORIENTATION = {
    2: "mirrored left-right",
    3: "rotated 180°",
    4: "mirrored top-bottom",
    5: "mirrored along the main diagonal",
    6: "rotated 90° clockwise",
    7: "mirrored along the anti-diagonal",
    8: "rotated 90° counter-clockwise",
}


class ImageError(ValueError):
    """An input that cannot be loaded as an image; the message says why in plain words.

    Examples
    --------
    >>> try:
    ...     load_image(b"")
    ... except ImageError as err:
    ...     print(err)
    cannot load the image: the file is empty (0 bytes)
    """


@dataclass(frozen=True)
class ImageInfo:
    """What :func:`load_image_with_info` found in a file and what it did to it.

    Attributes
    ----------
    format : str
        File format as Pillow names it: ``"PNG"``, ``"JPEG"``, ``"TIFF"``,
        ``"BMP"``, ``"WEBP"`` or ``"GIF"``.
    mode : str
        Pillow pixel mode of the file before conversion (``"L"``, ``"RGBA"``,
        ``"I;16"``, ``"F"``, ``"P"``, ...).
    width, height : int
        Size of the returned array, after the EXIF orientation was applied.
    channels : int
        Channels of the returned array, 1 or 3.
    bit_depth : int
        Bits per sample stored in the file (1, 2, 4, 8, 16 or 32).
    had_alpha : bool
        Whether the file had an alpha channel or palette transparency (dropped).
    notes : tuple of str
        Plain-English notes on every conversion that was not a plain 8-bit
        read, e.g. ``"alpha channel dropped ..."``; meant to be shown to users.

    Examples
    --------
    >>> buf = io.BytesIO(); Image.new("LA", (3, 2)).save(buf, "PNG")
    >>> info = load_image_with_info(buf.getvalue())[1]
    >>> info.width, info.height, info.channels, info.had_alpha
    (3, 2, 1, True)
    """

    format: str
    mode: str
    width: int
    height: int
    channels: int
    bit_depth: int
    had_alpha: bool
    notes: tuple[str, ...] = ()


def load_image(source: Any, *, max_pixels: int | None = 50_000_000) -> np.ndarray:
    """Load an image file as a ``float32 (H, W, C)`` array in ``[0, 1]``.

    See the module documentation for the conversion rules (value range by bit
    depth, channels by pixel mode, alpha dropped, EXIF orientation applied,
    float TIFFs kept or min-max scaled). :func:`load_image_with_info` returns
    the same array together with what was found and done.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray, memoryview or binary file object
        A path to a file; the file's contents as bytes; or anything with a
        ``.read()`` that returns bytes (an open ``"rb"`` file, ``io.BytesIO``,
        Streamlit's ``UploadedFile``). Like ``PIL.Image.open``, a file object
        is read from its start when it can seek, else from where it stands.
        Bytes are always taken as contents, never as a path.
    max_pixels : int or None, optional
        Refuse images with more than this many pixels, checked from the file
        header before any pixel is decoded. ``None`` leaves only Pillow's own
        decompression-bomb guard (``PIL.Image.MAX_IMAGE_PIXELS``), which
        always applies too.

    Returns
    -------
    image : (H, W, C) float32 ndarray
        Values in ``[0, 1]``; ``C`` is 1 or 3.

    Raises
    ------
    ImageError
        For any input that cannot be loaded: missing or empty file, not an
        image, an unsupported format, a truncated or damaged file, an image
        that is too large or has zero size, NaN or infinite float values.
    ValueError
        If ``max_pixels`` is not a positive integer or ``None``.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> Image.fromarray(np.array([[0, 51, 255]], dtype=np.uint8)).save(buf, format="PNG")
    >>> image = load_image(buf.getvalue())
    >>> image.shape, image.dtype
    ((1, 3, 1), dtype('float32'))
    >>> image[0, :, 0].tolist()
    [0.0, 0.2, 1.0]
    >>> load_image(b"hello")
    Traceback (most recent call last):
    ...
    segcore.io.ImageError: cannot load the image: this looks like a text file, not an image we
    can read; supported formats are PNG, JPEG, TIFF, BMP, WebP and GIF
    """
    return load_image_with_info(source, max_pixels=max_pixels)[0]


def load_image_with_info(
    source: Any, *, max_pixels: int | None = 50_000_000
) -> tuple[np.ndarray, ImageInfo]:
    """Load an image like :func:`load_image` and say what was found and done.

    Parameters
    ----------
    source : str, os.PathLike, bytes, bytearray, memoryview or binary file object
        As for :func:`load_image`.
    max_pixels : int or None, optional
        As for :func:`load_image`.

    Returns
    -------
    image : (H, W, C) float32 ndarray
        Values in ``[0, 1]``; ``C`` is 1 or 3.
    info : ImageInfo
        Format, mode, size, bit depth, alpha, and plain-English notes on the
        conversions made (also any warning Pillow gave while reading).

    Raises
    ------
    ImageError
        As for :func:`load_image`.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> pixels = np.array([[0, 32768, 65535]], dtype=np.uint16)
    >>> Image.fromarray(pixels).save(buf, format="PNG")
    >>> image, info = load_image_with_info(buf)
    >>> image[0, :, 0].tolist() == [0.0, np.float32(32768 / 65535), 1.0]
    True
    >>> info.format, info.mode, info.bit_depth, info.channels
    ('PNG', 'I;16', 16, 1)
    >>> info.notes
    ('16-bit values scaled to [0, 1] by dividing by 65535',)
    """
    if max_pixels is not None and (
        isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1
    ):
        raise ValueError(f"max_pixels must be a positive integer or None, got {max_pixels!r}")
    data, name, from_stream = _read_source(source)
    where = f"cannot load {name!r}" if name else "cannot load the image"
    if len(data) == 0:
        left = "nothing to read from the file object" if from_stream else "0 bytes"
        raise ImageError(f"{where}: the file is empty ({left})")
    # Warnings are recorded, not raised: the bomb warning must become an error
    # and Pillow's other warnings (corrupt EXIF, ...) become notes for the user.
    # catch_warnings is process-wide; a stray warning from another thread during
    # a load may land in these notes, which is harmless.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image, info = _decode(data, max_pixels)
        except ImageError as err:
            raise ImageError(f"{where}: {err}") from None
        except Exception as err:  # whatever else a decoder throws is still a bad file to the user
            raise ImageError(
                f"{where}: the image could not be decoded ({type(err).__name__}: {err})"
            ) from None
    # UserWarnings are about the file (corrupt EXIF, ...); anything else is about
    # code and goes back out to whoever watches warnings.
    heard = []
    for caught_warning in caught:
        if issubclass(caught_warning.category, UserWarning):
            heard.append(f"Pillow warned: {str(caught_warning.message).strip()}")
        else:
            warnings.warn_explicit(
                caught_warning.message,
                caught_warning.category,
                caught_warning.filename,
                caught_warning.lineno,
            )
    if heard:
        info = replace(info, notes=info.notes + tuple(dict.fromkeys(heard)))
    return image, info


def preview_shape(shape: tuple[int, ...], *, max_pixels: int = 1_000_000) -> tuple[int, int]:
    """The ``(height, width)`` that :func:`preview` gives an image of this shape.

    The size is scaled by one factor ``s = sqrt(max_pixels / (H * W))`` and
    rounded down, so the aspect ratio is kept to within a pixel and the area
    never exceeds ``max_pixels``; images already small enough keep their size.
    Where the short side would fall below one pixel it stays one pixel wide
    and the long side gets ``max_pixels`` (or its full length).

    Parameters
    ----------
    shape : tuple of int
        ``(H, W)`` or ``(H, W, C)``; only the first two entries are used.
    max_pixels : int, optional
        Largest number of pixels allowed, at least 1.

    Returns
    -------
    (height, width) : tuple of int

    Examples
    --------
    >>> preview_shape((3000, 4000, 3), max_pixels=1_000_000)
    (866, 1154)
    >>> preview_shape((300, 400), max_pixels=1_000_000)
    (300, 400)
    >>> preview_shape((1, 10_000), max_pixels=100)
    (1, 100)
    """
    height, width = int(shape[0]), int(shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"shape must have a positive height and width, got {tuple(shape)}")
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer, got {max_pixels!r}")
    if height * width <= max_pixels:
        return height, width
    scale = math.sqrt(max_pixels / (height * width))
    # Past an extreme aspect ratio the short side cannot shrink below one pixel;
    # the long side then takes the whole budget.
    if height * scale < 1:
        return 1, min(width, max_pixels)
    if width * scale < 1:
        return min(height, max_pixels), 1
    new_height = min(height, math.floor(height * scale))
    new_width = min(width, math.floor(width * scale))
    if new_height * new_width > max_pixels:  # only if sqrt rounded up across an integer
        new_width = max_pixels // new_height
    return new_height, new_width


def preview(image: np.ndarray, *, max_pixels: int = 1_000_000) -> np.ndarray:
    """A downscaled copy for display, with at most ``max_pixels`` pixels.

    Pillow's anti-aliased bilinear filter, at the size :func:`preview_shape`
    gives (close to :func:`skimage.transform.resize` with ``anti_aliasing``). An image that is already small enough is
    returned as it is (the same object, not a copy).

    Parameters
    ----------
    image : (H, W) or (H, W, C) float ndarray in [0, 1]
    max_pixels : int, optional
        Largest number of pixels of the result, at least 1.

    Returns
    -------
    preview : (h, w) or (h, w, C) float32 ndarray in [0, 1]
        Same number of channels; ``h * w <= max_pixels``.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((2000, 1000, 3), np.float32)
    >>> small = preview(image, max_pixels=20_000)
    >>> small.shape, small.dtype
    ((200, 100, 3), dtype('float32'))
    >>> preview(small, max_pixels=20_000) is small
    True
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        got = image.shape if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"image must be an (H, W) or (H, W, C) ndarray, got {got}")
    if not np.issubdtype(image.dtype, np.floating):
        raise ValueError(
            f"image must be float with values in [0, 1], got {image.dtype}; "
            "use segcore.load_image to convert"
        )
    new_height, new_width = preview_shape(image.shape, max_pixels=max_pixels)
    if (new_height, new_width) == image.shape[:2]:
        return image
    # Pillow's bilinear filter widens with the reduction, so it averages every pixel it
    # covers (anti-aliasing) in one pass of C: on a 12 MP photo 4x faster than
    # scikit-image's Gaussian-then-interpolate, and within 0.005 of it on average (tested).
    planes = image[:, :, None] if image.ndim == 2 else image
    small = np.stack([
        np.asarray(Image.fromarray(np.ascontiguousarray(planes[:, :, c], dtype=np.float32))
                   .resize((new_width, new_height), Image.Resampling.BILINEAR))
        for c in range(planes.shape[2])], axis=2)
    small = small[:, :, 0] if image.ndim == 2 else small
    # Interpolation is convex here, but rounding may step a hair outside.
    return np.clip(small, 0.0, 1.0).astype(np.float32, copy=False)


def load_mask(source: Any, *, shape: tuple[int, int] | None = None, zero: str = "class",
              resize: bool = False,
              max_pixels: int | None = 50_000_000) -> tuple[np.ndarray, int | None, str]:
    """Class ids from a ground-truth mask or label file: ``(truth, ignore, note)``.

    The convention: a mask with exactly two values (black and white, 0/1,
    0/255) is figure/ground and becomes classes ``1`` (background, the lower
    value) and ``2`` (object), as the generated samples use. A gray mask with
    more values keeps them as class ids (16-bit label PNGs included); ``zero``
    says whether ``0`` is a class (``"class"``) or unlabelled pixels to leave
    out of the scores (``"ignore"``, then ``ignore`` is ``0``). A palette
    PNG or GIF (as :func:`encode_labels_png` writes, and as PASCAL VOC masks
    are) is read by its palette indices, which follow the same rules as gray
    values. A colour mask gets one class per colour, ``1..n`` in order of
    brightness; one whose three channels agree (a gray mask saved as colour)
    is read as gray. A gray mask saved as JPEG carries compression noise: dozens
    of gray values around its two real ones. When more than
    :data:`NOISY_MASK_VALUES` values appear but :data:`NOISY_MASK_SHARE` of the
    pixels lie near two values far apart, it is read as a two-value mask split
    halfway between them, with a note. ``note`` says in plain words which rule
    applied.

    Parameters
    ----------
    source : path, bytes or binary file object
    shape : (H, W), optional
        The image's size; a mask of another size is refused, unless ``resize``.
    zero : {"class", "ignore"}
    resize : bool
        Resize a mask of the image's proportions (see :func:`same_proportions`)
        to ``shape`` by nearest pixel, so no new class appears; a mask of other
        proportions is still refused.

    Returns
    -------
    truth : (H, W) int32 ndarray
    ignore : int or None
    note : str

    Raises
    ------
    ImageError
        Unreadable file, a size that does not fit, a single value, too many colours.

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> Image.fromarray(np.array([[0, 255, 255]], np.uint8)).save(buf, "PNG")
    >>> truth, ignore, note = load_mask(buf.getvalue())
    >>> truth.tolist(), ignore
    ([[1, 2, 2]], None)
    """
    if zero not in ("class", "ignore"):
        raise ValueError(f"zero must be 'class' or 'ignore', got {zero!r}")
    data, _, _ = _read_source(source)
    values, info = load_image_with_info(data, max_pixels=max_pixels)
    if info.mode in ("P", "PA"):  # label values are the palette indices, not the colours
        try:
            with Image.open(io.BytesIO(data)) as img:
                indices = np.asarray(ImageOps.exif_transpose(img))
        except Exception as err:  # the loader read it; a second read must not fail otherwise
            raise ImageError(f"the mask's palette indices could not be read ({err})") from None
        values = (indices[:, :, :1] if indices.ndim == 3 else indices[:, :, None]) / 255.0
        info = replace(info, bit_depth=8)
    resized = ""
    if shape is not None and values.shape[:2] != tuple(shape):
        h, w = values.shape[:2]
        fits = same_proportions((h, w), shape)
        if not (resize and fits):
            hint = (" It has the image's proportions, so it can be resized to fit." if fits else
                    " Its proportions differ too, so it belongs to another image (or was cropped).")
            raise ImageError(
                f"the mask is {w} × {h} pixels but the image is {shape[1]} × {shape[0]}; a mask "
                f"must have the image's size.{hint}"
            )
        values = resize_labels(values, tuple(shape))
        resized = f"; resized from {w} × {h} to the image's {shape[1]} × {shape[0]} (nearest pixel)"
    truth, ignore, note = _mask_classes(values, info, zero)
    return truth, ignore, note + resized


#: More distinct gray values than this in a mask may be compression noise (see below).
NOISY_MASK_VALUES = 8
#: A noisy mask is read as two-valued when this share of its pixels lies near two values.
NOISY_MASK_SHARE = 0.97


def same_proportions(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two sizes ``(H, W)`` have the same proportions, up to the rounding of
    a resize (half a pixel of the smaller size on each side): a mask saved at
    another resolution than its photo.

    Examples
    --------
    >>> same_proportions((300, 400), (3000, 4000)), same_proportions((301, 400), (3000, 4000))
    (True, True)
    >>> same_proportions((400, 300), (3000, 4000))
    False
    """
    (ha, wa), (hb, wb) = a, b
    if min(ha, wa, hb, wb) < 1:
        return False
    if ha * wb == hb * wa:
        return True
    # Scale the larger onto the smaller; a resize rounds each side by up to a pixel.
    if ha * wa > hb * wb:
        (ha, wa), (hb, wb) = (hb, wb), (ha, wa)
    return abs(hb * wa / wb - ha) <= 1 or abs(wb * ha / hb - wa) <= 1


def _mask_classes(values: np.ndarray, info: ImageInfo, zero: str) -> tuple[np.ndarray, int | None, str]:
    """Class ids, ignored id and note from a decoded mask (see :func:`load_mask`)."""
    size = values.shape[:2]
    gray_note = ""
    if values.shape[2] == 3:
        spread = values.max(axis=2) - values.min(axis=2)
        # A gray mask saved in colour: channels equal, or within JPEG's colour noise.
        if np.mean(spread <= 12 / 255) >= NOISY_MASK_SHARE:
            values = values.mean(axis=2, keepdims=True, dtype=np.float32)
            gray_note = "colour file with gray content, read as gray; "
    if values.shape[2] == 3:
        flat = np.round(values * 255).astype(np.uint8).reshape(-1, 3)
        colours, inverse = np.unique(flat, axis=0, return_inverse=True)
        if len(colours) > 255:
            raise ImageError(f"the colour mask has {len(colours)} colours; a mask needs one colour "
                             "per class (at most 255). Was a photo uploaded by mistake? A colour "
                             "mask saved as JPEG also gets many colours: save it as PNG.")
        order = np.argsort(colours.astype(np.int64).sum(1), kind="stable")
        rank = np.empty(len(colours), np.int32)
        rank[order] = np.arange(1, len(colours) + 1)
        truth = rank[inverse.ravel()].reshape(size)
        return truth, None, f"colour mask: {len(colours)} colours became classes 1..{len(colours)}"
    top = (1 << min(info.bit_depth, 16)) - 1
    ids = np.rint(values[:, :, 0].astype(np.float64) * top).astype(np.int64)
    found = np.unique(ids)
    if len(found) == 1:
        raise ImageError("the mask has a single value everywhere: there is nothing to score against")
    if len(found) == 2:
        truth = np.where(ids == found[1], 2, 1).astype(np.int32)
        return truth, None, (f"{gray_note}two-value mask: {found[0]} became class 1 "
                             f"(background), {found[1]} class 2 (object)")
    noisy = _two_valued_with_noise(ids, found, top)
    if noisy is not None:
        low, high, share = noisy
        cut = (low + high) / 2
        truth = np.where(ids > cut, 2, 1).astype(np.int32)
        return truth, None, (
            f"{gray_note}nearly two-value mask: {len(found)} gray values, but {share:.1%} of the "
            f"pixels lie near {low} or {high} (the noise JPEG compression leaves), so it was read "
            f"as two classes split at {cut:g}: below, class 1 (background); above, class 2 "
            "(object)")
    truth = ids.astype(np.int32)
    if zero == "ignore" and 0 in found:
        return truth, 0, (f"{gray_note}label mask with {len(found) - 1} classes; "
                          "0 = not labelled, left out")
    return truth, None, f"{gray_note}label mask with {len(found)} classes, values kept as class ids"


def _two_valued_with_noise(ids: np.ndarray, found: np.ndarray, top: int) -> tuple[int, int, float] | None:
    """``(low, high, share)`` when a gray mask is two values plus compression noise:
    more than :data:`NOISY_MASK_VALUES` values (a label mask made by hand has few),
    the most common value on each side of the middle at least half the range apart,
    and :data:`NOISY_MASK_SHARE` of the pixels within an eighth of the range of one
    of them. Otherwise ``None``: the values are taken as class ids."""
    if len(found) <= NOISY_MASK_VALUES:
        return None
    counts = np.bincount(ids.ravel(), minlength=top + 1)
    cut = (int(found[0]) + int(found[-1])) // 2
    low = int(np.argmax(counts[:cut + 1]))
    high = cut + 1 + int(np.argmax(counts[cut + 1:]))
    if high - low < (top + 1) // 2:
        return None
    near = max(1, (top + 1) // 8)
    share = (counts[max(0, low - near):low + near + 1].sum()
             + counts[max(cut + 1, high - near):high + near + 1].sum()) / ids.size
    return (low, high, float(share)) if share >= NOISY_MASK_SHARE else None


def resize_labels(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Labels resized to ``shape`` by taking the nearest pixel, so no new label
    values appear (for moving results and masks between preview and full size).

    Examples
    --------
    >>> resize_labels(np.array([[1, 2], [3, 4]]), (4, 4))[0].tolist()
    [1, 1, 2, 2]
    """
    h, w = labels.shape[:2]  # (H, W) labels, or (H, W, C) mask values
    if (h, w) == tuple(shape):
        return labels
    rows = scale_index(np.arange(shape[0]), shape[0], h)
    cols = scale_index(np.arange(shape[1]), shape[1], w)
    return labels[rows[:, None], cols[None, :]]


def scale_index(index, n_from: int, n_to: int) -> np.ndarray:
    """Pixel positions along an axis of ``n_from`` pixels moved to an axis of
    ``n_to`` pixels: the pixel whose centre is nearest. Seeds, clicks and resized
    labels all move between a preview, the screen and the full image this way.

    Examples
    --------
    >>> scale_index([0, 99, 50], 100, 50).tolist()
    [0, 49, 25]
    """
    scaled = ((np.asarray(index, np.float64) + 0.5) * n_to / n_from).astype(np.intp)
    return np.minimum(scaled, n_to - 1)


def save_png(file: Any, array: np.ndarray) -> None:
    """Write a ``uint8`` or ``uint16`` array to a PNG file, values unchanged.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        Where to write.
    array : (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 ndarray, or (H, W) or (H, W, 1) uint16
        Gray, RGB or RGBA at 8 bits; gray only at 16 bits (Pillow writes no
        16-bit colour PNG).

    Raises
    ------
    ValueError
        For another dtype or shape, or an empty array.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> buf = io.BytesIO()
    >>> save_png(buf, np.array([[0, 1000], [40000, 65535]], dtype=np.uint16))
    >>> with Image.open(buf) as png:
    ...     png.mode, np.asarray(png).tolist()
    ('I;16', [[0, 1000], [40000, 65535]])
    """
    arr = np.asarray(array)
    if arr.dtype.kind != "u" or arr.dtype.itemsize not in (1, 2):
        raise ValueError(f"array must be uint8 or uint16, got {arr.dtype}")
    wide = arr.dtype.itemsize == 2
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    colour_ok = not wide and arr.ndim == 3 and arr.shape[2] in (3, 4)
    if arr.ndim != 2 and not colour_ok:
        name, allowed = (
            ("uint16", "(H, W) or (H, W, 1)")
            if wide
            else ("uint8", "(H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
        )
        raise ValueError(f"a {name} PNG must have shape {allowed}, got {np.shape(array)}")
    if arr.size == 0:
        raise ValueError(f"cannot write an empty image, got shape {np.shape(array)}")
    if wide:
        # Little-endian uint16 is what Pillow maps to its 16-bit gray mode "I;16".
        arr = arr.astype("<u2", copy=False)
    Image.fromarray(np.ascontiguousarray(arr)).save(file, format="PNG")


def encode_labels_png(labels: np.ndarray) -> bytes:
    """Encode a label image as PNG bytes: 8-bit up to label 255, else 16-bit.

    Parameters
    ----------
    labels : (H, W) integer ndarray
        Values in ``[0, 65535]``; ``0`` is unlabelled.

    Returns
    -------
    png : bytes
        A PNG whose pixel values are the labels, unscaled: up to label 255 a
        palette PNG whose colours are the app's label colours (so an image
        viewer shows the regions, not near-black gray levels), past it 16-bit
        gray. :func:`load_mask` reads either back as the same label values.

    Raises
    ------
    ValueError
        For a non-integer or non-2-D array, or labels outside ``[0, 65535]``.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from PIL import Image
    >>> labels = np.array([[0, 1], [2, 300]], dtype=np.int32)
    >>> with Image.open(io.BytesIO(encode_labels_png(labels))) as png:
    ...     png.mode, np.asarray(png).tolist()
    ('I;16', [[0, 1], [2, 300]])
    >>> with Image.open(io.BytesIO(encode_labels_png(labels % 256))) as png:
    ...     png.mode, np.asarray(png).tolist()
    ('P', [[0, 1], [2, 44]])
    """
    arr = np.asarray(labels)
    if arr.ndim != 2 or not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise ValueError(
            f"labels must be a 2-D integer array, got {arr.dtype} with shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"labels must not be empty, got shape {arr.shape}")
    low, high = int(arr.min()), int(arr.max())
    if low < 0 or high > 65535:
        raise ValueError(f"labels must lie in [0, 65535] to fit a PNG, got [{low}, {high}]")
    buf = io.BytesIO()
    if high > 255:
        save_png(buf, arr.astype(np.uint16))
        return buf.getvalue()
    png = Image.frombytes("P", (arr.shape[1], arr.shape[0]),
                          np.ascontiguousarray(arr, dtype=np.uint8).tobytes())
    png.putpalette(np.round(label_palette(255) * 255).astype(np.uint8).ravel().tobytes())
    png.save(buf, format="PNG")
    return buf.getvalue()


def png_bytes(array: np.ndarray) -> bytes:
    """:func:`save_png` into bytes.

    Examples
    --------
    >>> png_bytes(np.zeros((2, 2), np.uint8))[:4]
    b'\x89PNG'
    """
    buf = io.BytesIO()
    save_png(buf, array)
    return buf.getvalue()


def encode_mask_png(labels: np.ndarray, keep) -> bytes:
    """A black and white PNG: white (255) where ``labels`` is one of ``keep``.

    Examples
    --------
    >>> with Image.open(io.BytesIO(encode_mask_png(np.array([[1, 2, 3]]), [2, 3]))) as png:
    ...     np.asarray(png).tolist()
    [[0, 255, 255]]
    """
    return png_bytes(np.where(np.isin(labels, list(keep)), 255, 0).astype(np.uint8))


def content_key(data: bytes) -> str:
    """A short hash of a file's bytes: the same file gives the same key.

    Examples
    --------
    >>> content_key(b"abc")
    'a9993e364706816a'
    """
    return hashlib.sha1(data).hexdigest()[:16]


def describe_image(shape: tuple[int, ...], info: ImageInfo | None = None, *,
                   preview_shape: tuple[int, ...] | None = None) -> list[str]:
    """Size, channels, bit depth and what loading did, in plain words: the
    headline first, then one note per line.

    Parameters
    ----------
    shape : (H, W, C)
        The loaded image's shape.
    info : ImageInfo, optional
        What :func:`load_image_with_info` found.
    preview_shape : (h, w), optional
        The size of the preview the app explores, when it is smaller.

    Examples
    --------
    >>> describe_image((600, 800, 3), preview_shape=(300, 400))
    ['800 × 600 pixels (0.48 MP), 3 channels (colour)', 'large image: the pages work on a 400 × 300 preview while you explore; the Segment page can run on the full image']
    """
    h, w, channels = shape[0], shape[1], shape[2] if len(shape) > 2 else 1
    facts = [f"{w} × {h} pixels ({w * h / 1e6:.2f} MP), "
             f"{'1 channel (gray)' if channels == 1 else '3 channels (colour)'}"]
    notes = []
    if info is not None:
        facts[0] += f", {info.bit_depth}-bit {info.format}"
        notes = list(info.notes)
        if info.bit_depth == 16 and not any("16-bit" in n for n in notes):
            notes.append("16-bit data scaled to [0, 1]")
    if preview_shape is not None and tuple(preview_shape[:2]) != (h, w):
        ph, pw = preview_shape[:2]
        notes.append(f"large image: the pages work on a {pw} × {ph} preview while you explore; "
                     "the Segment page can run on the full image")
    return facts + notes


# --------------------------------------------------------------------------- reading


def _read_source(source: Any) -> tuple[bytes, str | None, bool]:
    """The bytes of ``source``, a name for messages, and whether it was a stream."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), None, False
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fsdecode(source))
        where = f"cannot load {str(path)!r}"
        try:
            return path.read_bytes(), str(path), False
        except FileNotFoundError:
            raise ImageError(f"{where}: file not found") from None
        except IsADirectoryError:
            raise ImageError(f"{where}: this is a folder, not a file") from None
        except PermissionError:
            raise ImageError(f"{where}: permission denied") from None
        except (OSError, ValueError) as err:
            raise ImageError(f"{where}: the file could not be read ({err})") from None
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        name = name if isinstance(name, str) else None
        where = f"cannot load {name!r}" if name else "cannot load the image"
        try:
            # Seeking to the start, as Pillow does, makes a file object that was
            # already read (a re-run app, a saved buffer) load whole again.
            if hasattr(source, "seek") and getattr(source, "seekable", lambda: True)():
                source.seek(0)
            data = source.read()
        except Exception as err:  # any file-like may fail in its own way
            raise ImageError(f"{where}: the file could not be read ({err})") from None
        if isinstance(data, str):
            raise ImageError(
                f"{where}: the file object gives text, not bytes; open it in binary mode ('rb')"
            )
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ImageError(f"{where}: .read() returned {type(data).__name__}, expected bytes")
        return bytes(data), name, True
    raise ImageError(
        "cannot load the image: expected a path, bytes or a binary file object, "
        f"got {type(source).__name__}"
    )


def _decode(data: bytes, max_pixels: int | None) -> tuple[np.ndarray, ImageInfo]:
    try:
        img = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(
            f"the image is too large to open safely (decompression bomb guard): {err}"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(_explain_unopened(data)) from None
    except Exception as err:  # Pillow's header parsers raise many kinds
        raise ImageError(_explain_unopened(data, detail=str(err))) from None
    with img:
        fmt = "JPEG" if img.format == "MPO" else str(img.format)
        mode = img.mode
        width, height = img.size
        if width == 0 or height == 0:
            raise ImageError(f"the image has zero width or height ({width} × {height})")
        if max_pixels is not None and width * height > max_pixels:
            raise ImageError(
                f"the image is too large: {width} × {height} = {width * height:,} pixels, "
                f"more than the limit of {max_pixels:,} pixels (max_pixels)"
            )
        notes: list[str] = []
        frames = _frame_note(img)
        if frames:
            notes.append(frames)
        bits, signed = _sample_layout(img)
        # Pillow's TIFF reader turns the pixels on load and drops the tag, so its tag is
        # read first. Other formats load first: reading a PNG's EXIF decodes its pixels,
        # and damage found there must not pass for a mere unreadable EXIF block.
        declared = _orientation(img) if fmt == "TIFF" else None
        try:
            img.load()
        except Exception as err:  # OSError, SyntaxError, zlib.error, struct.error, ...
            raise ImageError(
                f"the {fmt} file looks truncated or damaged: "
                f"its pixels could not be decoded ({err})"
            ) from None
        oriented = _apply_orientation(img, declared, notes)
        try:
            image, had_alpha = _to_array(oriented, bits, signed, notes)
        finally:
            if oriented is not img:
                oriented.close()
    info = ImageInfo(
        format=fmt,
        mode=mode,
        width=image.shape[1],
        height=image.shape[0],
        channels=image.shape[2],
        bit_depth=bits,
        had_alpha=had_alpha,
        notes=tuple(notes),
    )
    return image, info


def _frame_note(img: Image.Image) -> str | None:
    try:
        n_frames = int(getattr(img, "n_frames", 1))
    except Exception:  # counting frames reads the whole file; a damaged tail is not our concern
        return None
    if n_frames <= 1:
        return None
    if img.format == "TIFF":
        return f"first page of a multi-page TIFF used ({n_frames} pages)"
    if img.format == "MPO":
        return f"first picture of a multi-picture JPEG used ({n_frames} pictures)"
    return f"first frame of an animated {img.format} used ({n_frames} frames)"


def _sample_layout(img: Image.Image) -> tuple[int, bool]:
    """Bits per sample and signedness as the file declares them (read before load)."""
    if img.format == "TIFF":
        tags = getattr(img, "tag_v2", {})
        bits = tags.get(258)
        sample_format = tags.get(339, 1)
        if isinstance(bits, tuple):
            bits = max(bits) if bits else None
        if isinstance(sample_format, tuple):
            sample_format = sample_format[0] if sample_format else 1
        if isinstance(bits, int) and bits > 0:
            return bits, sample_format == 2
    rawmode = None
    if img.tile:
        args = img.tile[0][3]
        rawmode = args if isinstance(args, str) else (args[0] if args else None)
    if isinstance(rawmode, str):
        if rawmode == "1" or rawmode.startswith("1;"):
            return 1, False
        match = re.search(r";(\d+)", rawmode)
        if match:
            return int(match.group(1)), rawmode.endswith("S")
    by_mode = {"1": 1, "I": 32, "F": 32}
    if img.mode.startswith("I;16"):
        return 16, False
    return by_mode.get(img.mode, 8), img.mode == "I"


def _orientation(img: Image.Image) -> int | None:
    try:
        return img.getexif().get(0x0112)
    except Exception:  # unreadable EXIF means no orientation to apply
        return None


def _apply_orientation(img: Image.Image, declared: int | None, notes: list[str]) -> Image.Image:
    """Turn ``img`` the right way up; ``declared`` is its orientation tag read before load."""
    orientation = _orientation(img)
    if orientation not in _ORIENTATION:
        # Pillow's TIFF reader turns the pixels itself on load and drops the tag.
        if declared in _ORIENTATION:
            notes.append(f"EXIF orientation applied ({_ORIENTATION[declared]})")
        return img
    try:
        turned = ImageOps.exif_transpose(img)
    except Exception as err:
        notes.append(f"EXIF orientation {orientation} could not be applied ({err})")
        return img
    notes.append(f"EXIF orientation applied ({_ORIENTATION[orientation]})")
    return turned


def _to_array(
    img: Image.Image, bits: int, signed: bool, notes: list[str]
) -> tuple[np.ndarray, bool]:
    """Pixels of a loaded image as float32 (H, W, C) in [0, 1], and whether alpha was dropped."""
    mode = img.mode
    if bits > 8 and mode in ("L", "LA", "RGB", "RGBA", "CMYK", "P"):
        notes.append(
            f"the file stores {bits} bits per sample, but Pillow decodes {mode} images "
            "at 8 bits: the lower bits were dropped"
        )
    had_alpha = False
    if mode == "1":
        out = np.asarray(img, dtype=bool).astype(np.float32)[:, :, None]
    elif mode == "L":
        out = _U8_TO_FLOAT[np.asarray(img)][:, :, None]
    elif mode in ("LA", "La"):
        had_alpha = True
        gray = np.asarray(img.convert("LA") if mode == "La" else img)[:, :, 0]
        out = _U8_TO_FLOAT[gray][:, :, None]
        notes.append(f"alpha channel dropped: gray values {_KEPT}")
    elif mode in ("P", "PA"):
        out, had_alpha = _palette_to_array(img, notes)
    elif mode == "RGB":
        out = _U8_TO_FLOAT[np.asarray(img)]
    elif mode in ("RGBA", "RGBa", "RGBX"):
        had_alpha = mode != "RGBX"
        # Premultiplied colour must be un-multiplied before the alpha goes.
        rgb = np.asarray(img.convert("RGBA") if mode == "RGBa" else img)[:, :, :3]
        out = _U8_TO_FLOAT[rgb]
        if had_alpha:
            notes.append(f"alpha channel dropped: colours {_KEPT}")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        try:
            rgb = np.asarray(img.convert("RGB"))
        except Exception as err:
            raise ImageError(f"{mode} images cannot be converted to RGB ({err})") from None
        out = _U8_TO_FLOAT[rgb]
        if mode == "CMYK":
            notes.append(
                "CMYK converted to RGB with Pillow's simple formula (any colour profile ignored)"
            )
        else:
            notes.append(f"{mode} converted to RGB")
    elif mode.startswith("I;16") or mode == "I":
        out = _integer_to_array(img, bits, signed, notes)
    elif mode == "F":
        out = _float_to_array(np.asarray(img, dtype=np.float32), notes)
    else:
        raise ImageError(f"images with pixel mode {mode!r} are not supported")
    return np.ascontiguousarray(out, dtype=np.float32), had_alpha


def _palette_to_array(img: Image.Image, notes: list[str]) -> tuple[np.ndarray, bool]:
    had_alpha = img.mode == "PA" or "transparency" in img.info
    palette = img.getpalette(rawmode="RGB")
    if not palette:
        raise ImageError("the palette image has no palette")
    colours = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    gray = bool(np.all(colours == colours[:, :1]))
    # Indices past the stored palette read as black, as Pillow itself shows them.
    table = np.zeros((256, 3), np.uint8)
    table[: min(len(colours), 256)] = colours[:256]
    indices = np.asarray(img)
    if indices.ndim == 3:  # "PA": index and alpha
        indices = indices[:, :, 0]
    # Looking colours up directly avoids Pillow's convert(), which warns on transparency.
    if gray:
        out = _U8_TO_FLOAT[table[:, 0][indices]][:, :, None]
        notes.append("palette image whose colours are all gray: loaded as 1 channel")
    else:
        out = _U8_TO_FLOAT[table[indices]]
    if had_alpha:
        notes.append(f"palette transparency dropped: colours {_KEPT}")
    return out, had_alpha


def _integer_to_array(img: Image.Image, bits: int, signed: bool, notes: list[str]) -> np.ndarray:
    values = np.asarray(img)
    if signed or bits not in (8, 16):
        # No bit depth maps these to [0, 1] sensibly (a 32-bit counter rarely spans
        # 2**32): like Fiji, show them by the range the data has, and say so.
        kind = "signed" if signed else "unsigned"
        values = values.astype(np.float64)
        low, high = float(values.min()), float(values.max())
        if high == low:
            notes.append(f"constant {bits}-bit {kind} integer image ({low:g}): set to 0")
            return np.zeros(values.shape + (1,), np.float32)
        notes.append(f"{bits}-bit {kind} integer values in [{low:g}, {high:g}] scaled by their "
                     "range to [0, 1], as Fiji shows them")
        return ((values - low) / (high - low)).astype(np.float32)[:, :, None]
    values = values.astype(np.int64, copy=False)
    top = (1 << bits) - 1
    if values.size and (values.min() < 0 or values.max() > top):
        raise ImageError(
            f"the file declares {bits}-bit samples but holds values outside [0, {top}]"
        )
    if bits == 16:
        notes.append("16-bit values scaled to [0, 1] by dividing by 65535")
        return _U16_TO_FLOAT[values][:, :, None]
    return _U8_TO_FLOAT[values][:, :, None]


def _float_to_array(values: np.ndarray, notes: list[str]) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        n_bad = int(np.count_nonzero(~np.isfinite(values)))
        raise ImageError(
            f"the floating-point image contains NaN or infinite values ({n_bad:,} pixels)"
        )
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 1.0:
        notes.append("floating-point values already in [0, 1]: kept as they are")
        return values[:, :, None]
    if high == low:
        notes.append(f"constant floating-point image ({low:g}) outside [0, 1]: set to 0")
        return np.zeros(values.shape + (1,), np.float32)
    scaled = (values.astype(np.float64) - low) / (high - low)
    notes.append(f"floating-point values in [{low:g}, {high:g}] min-max scaled to [0, 1]")
    return np.clip(scaled, 0.0, 1.0).astype(np.float32)[:, :, None]


# --------------------------------------------------------------------------- explaining


def _explain_unopened(data: bytes, detail: str = "") -> str:
    """Say, as precisely as the first bytes allow, why Pillow could not open ``data``."""
    head = data[:1024]
    supported = _supported_magic(head)
    if supported:
        size = _header_size(head, supported)
        if size is not None and 0 in size:
            return f"the image has zero width or height ({size[0]} × {size[1]})"
        return (
            f"the file looks like a {supported} image, but it is truncated, damaged "
            "or uses a variant that cannot be read (e.g. multi-channel float or 64-bit samples)"
            + (f" ({detail})" if detail else "")
        )
    other = _other_kind(head)
    if other:
        return f"this looks like {other}, not a supported image format; {_SUPPORTED_TEXT}"
    known = _pillow_format(data)
    if known:
        return f"this is a {known} image, which is not a supported format; {_SUPPORTED_TEXT}"
    if _looks_like_text(head):
        return f"this looks like a text file, not an image we can read; {_SUPPORTED_TEXT}"
    return f"this is not an image we can read; {_SUPPORTED_TEXT}"


def _supported_magic(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head.startswith(b"BM") and len(head) >= 26:
        return "BMP"
    return None


def _header_size(head: bytes, kind: str) -> tuple[int, int] | None:
    """Width and height straight from the header, for formats where that is easy."""
    try:
        if kind == "PNG" and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if kind == "GIF":
            return struct.unpack("<HH", head[6:10])
        if kind == "BMP":
            if struct.unpack("<I", head[14:18])[0] == 12:
                return struct.unpack("<HH", head[18:22])
            width, height = struct.unpack("<ii", head[18:26])
            return abs(width), abs(height)
    except struct.error:
        return None
    return None


def _other_kind(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"%pdf"):
        return "a PDF document"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "an SVG drawing"
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "a HEIC/HEIF photo"
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        return "a video or ISO media file"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive"
    return None


def _pillow_format(data: bytes) -> str | None:
    """The name of a format Pillow knows but segcore does not accept, if any."""
    try:
        with Image.open(io.BytesIO(data)) as other:
            return str(other.format)
    except Exception:  # the probe is only for a better message
        return None


def _looks_like_text(head: bytes) -> bool:
    try:
        # An incremental decoder tolerates a character cut at the end of ``head``.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return bool(text) and sum(c.isprintable() or c in "\r\n\t" for c in text) >= 0.95 * len(text)
