"""The numbers SegLab's lessons draw, computed and tested here (never in a page).

One module per lesson (``segcore.learn.thresholds``, ...), each over plain arrays so
that a notebook can draw the same figures. What every lesson shares lives in this
module: the small working copy, and which pixels of a ground truth are objects.

>>> from segcore import synthetic
>>> s = synthetic.blobs((300, 300))
>>> image, truth = small_copy(s.image, s.truth, max_pixels=10_000)
>>> image.shape, truth.shape
((100, 100, 1), (100, 100))
"""

from __future__ import annotations

import numpy as np

from segcore import io as sio

__all__ = ["LESSON_PIXELS", "small_copy", "objects"]

#: Pixels in a lesson's working copy: small enough that every step of a lesson
#: answers in about a second on two cores, large enough to see the image.
LESSON_PIXELS = 90_000


def small_copy(image: np.ndarray, truth: np.ndarray | None = None, *,
               max_pixels: int = LESSON_PIXELS) -> tuple[np.ndarray, np.ndarray | None]:
    """The image (anti-aliased) and its truth (nearest pixel) scaled down to at most
    ``max_pixels`` pixels, aspect kept; small images come back as they are.

    Examples
    --------
    >>> img = np.zeros((40, 80, 3), np.float32)
    >>> small_copy(img, np.ones((40, 80), np.int32), max_pixels=800)[1].shape
    (20, 40)
    """
    small = sio.preview(image, max_pixels=max_pixels)
    if truth is not None:
        truth = sio.resize_labels(truth, small.shape[:2])
    return small, truth


def objects(truth: np.ndarray) -> np.ndarray:
    """Which pixels of a ground truth belong to an object: SegLab's truths use ``1``
    for the background and ``2..`` for objects (``0`` for unlabelled pixels, which
    are no object either).

    Examples
    --------
    >>> objects(np.array([[1, 2], [3, 0]])).tolist()
    [[False, True], [True, False]]
    """
    truth = np.asarray(truth)
    return truth >= 2
