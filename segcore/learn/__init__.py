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

__all__ = ["LESSON_PIXELS", "small_copy", "objects", "oblique"]

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


def oblique(u: np.ndarray, *, azimuth: float, elevation: float) -> tuple[np.ndarray, ...]:
    """Points of the centred unit cube (``(..., 3)``, each coordinate in
    ``[-0.5, 0.5]``, the third one up) seen from ``azimuth`` degrees around the
    vertical and ``elevation`` degrees above the horizon: ``(across, up, depth)``,
    with larger ``depth`` farther away. The lessons draw 3-D scenes as pictures with
    it (a picture is quick to show; a 3-D plot is slow without graphics acceleration).

    Examples
    --------
    >>> across, up, depth = oblique(np.array([[0, 0, 0.5], [0.5, 0, 0]]), azimuth=0,
    ...                             elevation=0)
    >>> across.tolist(), up.tolist()
    ([0.0, 0.5], [0.5, 0.0])
    """
    u = np.asarray(u, np.float64)
    a, e = np.radians(azimuth), np.radians(elevation)
    across = u[..., 0] * np.cos(a) - u[..., 1] * np.sin(a)
    deep = u[..., 0] * np.sin(a) + u[..., 1] * np.cos(a)
    up = u[..., 2] * np.cos(e) - deep * np.sin(e)
    # The eye is above and in front: what is low on the screen (large "deep") and what
    # is high (large third coordinate) is near.
    depth = -(deep * np.cos(e) + u[..., 2] * np.sin(e))
    return across, up, depth
