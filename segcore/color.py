"""Colour spaces and label bookkeeping shared by the methods."""

from __future__ import annotations

import colorsys

import numpy as np
from skimage import color as skcolor

from segcore import _parallel

SPACES = ("rgb", "lab", "hsv", "gray")
#: Luminance from red, green and blue (ITU-R 709, as scikit-image's ``rgb2gray``).
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)


def to_gray(image: np.ndarray) -> np.ndarray:
    """Luminance of an ``(H, W, C)`` image in [0, 1] as ``(H, W) float32``.

    Examples
    --------
    >>> to_gray(np.ones((2, 2, 3), np.float32)).round(3)
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    """
    if image.ndim == 2:
        return image.astype(np.float32, copy=False)
    if image.shape[2] == 1:
        return image[:, :, 0].astype(np.float32, copy=False)
    if image.dtype != np.float32:
        return skcolor.rgb2gray(image).astype(np.float32, copy=False)
    # scikit-image's rgb2gray is ``image @ weights``, one product per row of pixels;
    # the same products, blocks of rows on every core, give the same values in half
    # the time on two cores.
    gray = np.empty(image.shape[:2], np.float32)
    weights = np.asarray(GRAY_WEIGHTS, np.float32)
    _parallel.run(lambda rows: np.matmul(image[rows], weights, out=gray[rows]),
                  image.shape[0], image.shape[1])
    return gray


def to_space(image: np.ndarray, space: str) -> np.ndarray:
    """Features of every pixel in a colour space, ``(H, W, F) float32``, each feature
    scaled to about [0, 1] so that distances mean the same across spaces.

    ``lab``: L/100, (a+128)/255, (b+128)/255. ``hsv``: hue, saturation, value as
    scikit-image gives them. A one-channel image has only ``gray``; asking it for
    another space gives its gray value.

    Examples
    --------
    >>> to_space(np.zeros((2, 2, 3), np.float32), "lab").shape
    (2, 2, 3)
    """
    if space not in SPACES:
        raise ValueError(f"colour space must be one of {', '.join(SPACES)}, got {space!r}")
    if image.shape[2] == 1 or space == "gray":
        return to_gray(image)[:, :, None]
    if space == "rgb":
        return image.astype(np.float32, copy=False)
    if space == "hsv":
        return to_hsv(image)
    lab = skcolor.rgb2lab(image)
    scaled = np.stack([lab[..., 0] / 100.0, (lab[..., 1] + 128) / 255.0, (lab[..., 2] + 128) / 255.0], -1)
    return scaled.astype(np.float32)


def to_hsv(image: np.ndarray) -> np.ndarray:
    """Hue, saturation and value of an ``(H, W, 3)`` image in [0, 1], ``(H, W, 3)
    float32``: scikit-image's ``rgb2hsv``, value for value.

    The same float32 operations on whole channels: scikit-image reduces over the
    last axis of three values and writes hue through three boolean masks, 26 ms for
    the 95 thousand colour bins of a 4 MP photo where this takes 2 ms. Where two
    channels tie for the largest, the later one's formula gives the hue, as there.

    Examples
    --------
    >>> to_hsv(np.array([[[1.0, 0.5, 0.0], [0.2, 0.2, 0.2]]], np.float32)).round(4).tolist()
    [[[0.0833, 1.0, 1.0], [0.0, 0.0, 0.2]]]
    """
    rgb = image.astype(np.float32, copy=False)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = np.maximum(np.maximum(r, g), b)
    delta = value - np.minimum(np.minimum(r, g), b)
    grey = delta == 0
    out = np.empty(rgb.shape, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):  # gray pixels: set to 0 below
        hue = np.where(b == value, 4.0 + (r - g) / delta,
                       np.where(g == value, 2.0 + (b - r) / delta, (g - b) / delta))
        out[..., 1] = delta / value
    hue /= 6.0
    out[..., 0] = hue % 1.0
    out[..., 2] = value
    out[..., 0][grey] = 0
    out[..., 1][grey] = 0
    return out


def relabel_by_intensity(labels: np.ndarray, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber regions ``1..N`` by increasing mean intensity, keeping ``0`` as ``0``.

    Colours then stay put when a slider moves a cluster a little. Returns the
    new labels and ``order``, where ``order[i]`` is the old label that became ``i + 1``.

    Examples
    --------
    >>> img = np.array([[0.9, 0.1]], np.float32)[:, :, None]
    >>> relabel_by_intensity(np.array([[1, 2]]), img)[0]
    array([[2, 1]], dtype=int32)
    """
    gray = to_gray(image)
    ids = np.unique(labels)
    ids = ids[ids != 0]
    if ids.size == 0:
        return labels.astype(np.int32), ids
    flat = labels.ravel()
    idx = np.searchsorted(ids, flat)
    idx[flat == 0] = 0
    fg = flat != 0
    sums = np.bincount(idx[fg], weights=gray.ravel()[fg], minlength=ids.size)
    counts = np.bincount(idx[fg], minlength=ids.size)
    means = sums / np.maximum(counts, 1)
    order = ids[np.argsort(means, kind="stable")]
    lut_rank = np.empty(ids.size, np.int32)
    lut_rank[np.argsort(means, kind="stable")] = np.arange(1, ids.size + 1, dtype=np.int32)
    out = np.where(fg, lut_rank[idx], 0).astype(np.int32).reshape(labels.shape)
    return out, order


def label_palette(n: int) -> np.ndarray:
    """``(n + 1, 3) float32`` colours: row 0 (unlabelled) black, rows ``1..n`` spread
    around the hue circle by the golden ratio, so neighbouring labels differ and a
    label keeps its colour whatever ``n`` is.

    Examples
    --------
    >>> p = label_palette(3)
    >>> p.shape, p[0].tolist()
    ((4, 3), [0.0, 0.0, 0.0])
    """
    out = np.zeros((n + 1, 3), np.float32)
    for i in range(1, n + 1):
        hue = (0.13 + (i - 1) * 0.618033988749895) % 1.0
        sat, val = (0.65, 0.95) if i % 2 else (0.8, 0.75)
        out[i] = colorsys.hsv_to_rgb(hue, sat, val)
    return out
