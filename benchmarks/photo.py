"""A phone-like test photo at any size, shared by ``suite.py`` and ``browser.py``.

The scene is scikit-image's bundled ``coffee`` picture (a cup on a saucer on a
wooden table, 400 x 600), cropped to a phone's 4:3 frame and resized to the
requested number of pixels. Upscaling a small picture makes it smoother than a
real photo, so mild sensor-like noise (Gaussian, 2 gray levels by default) is
added before the result is quantised to 8 bits, as a phone's JPEG would be: the
number of distinct colours is then of the order of a real photo's, which matters
to methods that work on colours (k-means, GMM) or on fine texture (watershed,
Felzenszwalb).

>>> photo = phone_photo(0.01)
>>> photo.dtype, photo.shape
(dtype('uint8'), (87, 115, 3))
>>> [lab for *_, lab in two_seeds(photo.shape[:2])]
[1, 2]
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

#: A phone's frame, width / height.
ASPECT = 4 / 3
#: Where the two seeds go, as fractions of (height, width) of the 4:3 frame:
#: label 1 on the subject (the coffee in the cup), label 2 on the background
#: (the table, top right).
SUBJECT = (0.36, 0.48)
BACKGROUND = (0.12, 0.92)


def frame_shape(megapixels: float, aspect: float = ASPECT) -> tuple[int, int]:
    """``(height, width)`` of a landscape frame of about ``megapixels`` million pixels.

    Examples
    --------
    >>> frame_shape(12)
    (3000, 4000)
    """
    h = max(2, round(math.sqrt(megapixels * 1e6 / aspect)))
    return h, max(2, round(megapixels * 1e6 / h))


def _scene() -> np.ndarray:
    """The bundled coffee picture cropped to 4:3 around its centre, ``uint8 (H, W, 3)``."""
    from skimage import data

    scene = data.coffee()
    h, w = scene.shape[:2]
    width = min(w, round(h * ASPECT))
    left = (w - width) // 2
    return scene[:, left:left + width]


def phone_photo(megapixels: float, *, noise: float = 2.0, seed: int = 0) -> np.ndarray:
    """The test photo at about ``megapixels`` million pixels, ``uint8 (H, W, 3)``.

    Parameters
    ----------
    megapixels : float
        Target size; the frame is 4:3 landscape (12 gives 4000 x 3000).
    noise : float
        Standard deviation of the added noise, in 8-bit gray levels.
    seed : int
        Seed of the noise, so every run sees the same pixels.
    """
    h, w = frame_shape(megapixels)
    resized = np.asarray(Image.fromarray(_scene()).resize((w, h), Image.Resampling.BICUBIC))
    rng = np.random.default_rng(seed)
    out = np.empty_like(resized)
    # Row blocks keep the float temporaries small at 24 MP.
    for top in range(0, h, 512):
        block = resized[top:top + 512].astype(np.float32)
        block += rng.normal(0.0, noise, block.shape).astype(np.float32)
        out[top:top + 512] = np.clip(np.rint(block), 0, 255).astype(np.uint8)
    return out


def as_float(photo: np.ndarray) -> np.ndarray:
    """The photo as segcore takes images: ``float32`` in ``[0, 1]`` (``uint8 / 255``)."""
    return photo.astype(np.float32) / np.float32(255)


def two_seeds(shape: tuple[int, int]) -> list[tuple[int, int, int]]:
    """``(row, col, label)`` seeds: label 1 on the subject, label 2 on the background."""
    h, w = shape
    return [(int(SUBJECT[0] * (h - 1)), int(SUBJECT[1] * (w - 1)), 1),
            (int(BACKGROUND[0] * (h - 1)), int(BACKGROUND[1] * (w - 1)), 2)]
