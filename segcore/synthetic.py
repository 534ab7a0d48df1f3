"""Generated images with exact ground truth.

Every sample is made from a random seed (``rng``), so the same call always gives the same image,
and its ground truth is known exactly because the image is drawn from it. These
are the samples the app may ship besides scikit-image's bundled images.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from skimage import draw

__all__ = ["Sample", "two_regions", "shapes", "blobs", "noisy", "low_contrast", "SAMPLES",
           "DESCRIPTIONS", "make"]


@dataclass(frozen=True)
class Sample:
    """An image with its exact ground truth.

    Attributes
    ----------
    name : str
    image : (H, W, C) float32 ndarray in [0, 1]
    truth : (H, W) int32 ndarray
        Class ids, ``1`` for background and ``2..`` for objects (``0`` unused),
        so that a ground truth and a segmentation share one label convention.
    description : str
    instances : (H, W) int32 ndarray or None
        Where the sample is drawn object by object: which object each pixel shows
        (``0`` background, ``1..N``; an object drawn over keeps what remains visible).

    Examples
    --------
    >>> s = Sample("tiny", np.zeros((2, 2, 1), np.float32), np.ones((2, 2), np.int32), "flat")
    >>> s.truth.max()
    np.int32(1)
    """

    name: str
    image: np.ndarray
    truth: np.ndarray
    description: str
    instances: np.ndarray | None = None


def _finish(values: np.ndarray) -> np.ndarray:
    out = np.clip(values, 0.0, 1.0).astype(np.float32)
    return out[:, :, None] if out.ndim == 2 else out


def two_regions(shape: tuple[int, int] = (64, 64), *, low: float = 0.2, high: float = 0.8) -> Sample:
    """Left half ``low``, right half ``high``: the smallest case with a known answer.

    Examples
    --------
    >>> s = two_regions((8, 8))
    >>> s.image.shape, sorted(np.unique(s.truth).tolist())
    ((8, 8, 1), [1, 2])
    """
    h, w = shape
    truth = np.ones((h, w), np.int32)
    truth[:, w // 2:] = 2
    image = np.where(truth == 2, high, low)
    return Sample("two regions", _finish(image), truth, DESCRIPTIONS["two regions"])


def shapes(shape: tuple[int, int] = (192, 256), *, rng: int = 0) -> Sample:
    """A gray background with a disc, a rectangle and a triangle in three gray levels.

    Truth: background ``1``; objects numbered by their gray level ``2..4``.

    Examples
    --------
    >>> s = shapes()
    >>> int(s.truth.max())
    4
    """
    gen = np.random.default_rng(rng)
    h, w = shape
    truth = np.ones((h, w), np.int32)
    rr, cc = draw.disk((h * 0.35, w * 0.28), min(h, w) * 0.2, shape=shape)
    truth[rr, cc] = 2
    r0, c0 = int(h * 0.55), int(w * 0.55)
    truth[r0:int(h * 0.9), c0:int(w * 0.9)] = 3
    rr, cc = draw.polygon([h * 0.1, h * 0.45, h * 0.45], [w * 0.75, w * 0.6, w * 0.92], shape=shape)
    truth[rr, cc] = 4
    levels = np.array([0.0, 0.15, 0.45, 0.7, 0.9])
    image = levels[truth] + gen.normal(0, 0.02, shape)
    return Sample("shapes", _finish(image), truth, DESCRIPTIONS["shapes"])


def blobs(shape: tuple[int, int] = (192, 192), *, n: int = 12, rng: int = 0) -> Sample:
    """Round bright cells on a dark background, some touching: figure/ground truth.

    Examples
    --------
    >>> s = blobs((64, 64), n=4)
    >>> sorted(np.unique(s.truth).tolist())
    [1, 2]
    """
    gen = np.random.default_rng(rng)
    h, w = shape
    ids = np.zeros((h, w), np.int32)
    r = min(h, w) / 12
    for i in range(n):
        cy, cx = gen.uniform(r, h - r), gen.uniform(r, w - r)
        rr, cc = draw.disk((cy, cx), gen.uniform(0.7, 1.3) * r, shape=shape)
        ids[rr, cc] = i + 1
    from skimage.segmentation import relabel_sequential  # loads when first needed

    ids = relabel_sequential(ids)[0].astype(np.int32)  # hidden discs drop out
    truth = np.where(ids > 0, 2, 1).astype(np.int32)
    image = np.where(truth == 2, 0.75, 0.25) + gen.normal(0, 0.03, shape)
    return Sample("blobs", _finish(image), truth, DESCRIPTIONS["blobs"], instances=ids)


def noisy(shape: tuple[int, int] = (192, 192), *, sigma: float = 0.2, rng: int = 0) -> Sample:
    """The blobs with strong Gaussian noise: global thresholds start to fail.

    Examples
    --------
    >>> noisy((32, 32)).image.dtype
    dtype('float32')
    """
    base = blobs(shape, rng=rng)
    gen = np.random.default_rng(rng + 1)
    image = base.image[:, :, 0] + gen.normal(0, sigma, shape)
    return Sample("noisy blobs", _finish(image), base.truth, _NOISY.format(sigma=sigma),
                  instances=base.instances)


def low_contrast(shape: tuple[int, int] = (192, 192), *, rng: int = 0) -> Sample:
    """Blobs only 0.08 brighter than the background, under an illumination ramp.

    A single global threshold cannot separate them; local thresholds can.

    Examples
    --------
    >>> s = low_contrast((32, 32))
    >>> float(s.image.max()) <= 1.0
    True
    """
    base = blobs(shape, rng=rng)
    gen = np.random.default_rng(rng + 2)
    h, w = shape
    ramp = np.linspace(0.2, 0.7, w)[None, :] * np.ones((h, 1))
    image = ramp + 0.08 * (base.truth == 2) + gen.normal(0, 0.01, shape)
    from skimage.filters import gaussian  # loads when first needed

    image = gaussian(image, sigma=0.5)
    return Sample("low contrast", _finish(image), base.truth, DESCRIPTIONS["low contrast"],
                  instances=base.instances)


def colour_shapes(shape: tuple[int, int] = (192, 256), *, rng: int = 0) -> Sample:
    """The shapes sample in colour, with equal brightness for two of the shapes,
    so that only colour separates them.

    Examples
    --------
    >>> colour_shapes().image.shape
    (192, 256, 3)
    """
    base = shapes(shape, rng=rng)
    gen = np.random.default_rng(rng + 3)
    palette = np.array([[0, 0, 0], [0.15, 0.2, 0.25], [0.8, 0.25, 0.2], [0.25, 0.6, 0.3], [0.9, 0.85, 0.3]])
    image = palette[base.truth] + gen.normal(0, 0.02, shape + (3,))
    return Sample("colour shapes", _finish(image), base.truth, DESCRIPTIONS["colour shapes"])


_NOISY = "Blobs with Gaussian noise (sigma {sigma:g}); smoothing or spatial methods help."

#: What each sample shows, at its default settings: a gallery lists them without
#: drawing a single image (drawing them all imports scipy.ndimage, 0.3 s).
DESCRIPTIONS = {
    "shapes": "Three flat shapes on a dark background; classes by gray level.",
    "colour shapes": "Coloured shapes; the red and green ones differ in hue more than in "
                     "brightness.",
    "blobs": "Bright round cells, some touching.",
    "noisy blobs": _NOISY.format(sigma=inspect.signature(noisy).parameters["sigma"].default),
    "low contrast": "Faint blobs under uneven lighting; try a local threshold.",
    "two regions": "Two flat halves; any method should split them.",
}

SAMPLES = {
    "shapes": shapes,
    "colour shapes": colour_shapes,
    "blobs": blobs,
    "noisy blobs": noisy,
    "low contrast": low_contrast,
    "two regions": two_regions,
}


def make(name: str) -> Sample:
    """One generated sample by name (a key of ``SAMPLES``).

    Examples
    --------
    >>> make("blobs").name
    'blobs'
    """
    try:
        return SAMPLES[name]()
    except KeyError:
        raise ValueError(f"unknown sample {name!r}; valid: {', '.join(SAMPLES)}") from None
