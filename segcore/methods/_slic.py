"""SLIC superpixels: ``skimage.segmentation.slic``'s labels, on every core.

Where scikit-image's time goes (1 MP photo, 2-core machine): 0.85-1.3 s of its
1.1-1.6 s are its loop over centres, which visits each centre's window and keeps,
for every pixel, the nearest centre so far, on one core. Two windows overlap, so
centres cannot be split between cores; but a pixel's answer depends only on the
centres whose windows hold it, taken in the same order. Our assignment step
(:func:`segcore.methods._loops.slic_assign`) therefore goes row by row, each row
over the centres in scikit-image's order, and blocks of rows run on separate
cores (:mod:`segcore._parallel`). Every sum and distance is scikit-image's, in
the same single precision and the same order, and the preparation (scaling, blur,
grid of centres) and the connectivity pass are scikit-image's own functions, so
the labels are equal (``tests/test_crosscheck.py`` compares them).
"""

from __future__ import annotations

import math

import numpy as np

from segcore import _memo, _parallel


def slic(features: np.ndarray, *, n_segments: int, compactness: float, sigma: float,
         max_num_iter: int = 10) -> np.ndarray:
    """``skimage.segmentation.slic(features, n_segments, compactness, sigma=sigma,
    convert2lab=False, start_label=1, enforce_connectivity=True)`` of a 2-D image,
    ``(H, W)`` (gray) or ``(H, W, C)``.

    Examples
    --------
    >>> from skimage import segmentation
    >>> img = np.zeros((20, 20, 3), np.float32); img[:, 10:] = 1
    >>> labels = slic(img, n_segments=8, compactness=0.1, sigma=1.0)
    >>> labels.shape, int(labels.max())
    ((20, 20), 6)
    >>> bool((labels == segmentation.slic(img, n_segments=8, compactness=0.1, sigma=1.0,
    ...                                    convert2lab=False, start_label=1)).all())
    True
    """
    from skimage.segmentation.slic_superpixels import (_enforce_label_connectivity_cython,
                                                       _get_grid_centroids)
    from skimage.util import regular_grid

    from segcore.methods._loops import slic_assign, slic_centres, slic_windows

    image = _prepared(features, sigma)
    dtype = image.dtype
    height, width = image.shape[1:3]
    centroids, steps = _get_grid_centroids(image, n_segments)
    segments = np.ascontiguousarray(
        np.concatenate([centroids, np.zeros((centroids.shape[0], image.shape[3]))], axis=-1),
        dtype=dtype)
    image = np.ascontiguousarray(image * (1.0 / compactness), dtype=dtype)[0]
    if dtype != np.float32:  # the compiled loop is single precision, as our images are
        raise ValueError(f"SLIC's fast path takes float32 features, got {dtype}")

    # scikit-image's _slic_cython, its assignment step on every core.
    step = np.float32(max(steps))
    spatial_weight = np.float32(1.0 / float(step * step))
    # The windows' steps come from the grid for as many centres as were placed.
    _, step_y, step_x = (int(s.step if s.step is not None else 1)
                         for s in regular_grid((1, height, width), segments.shape[0]))
    planes = np.ascontiguousarray(image.transpose(2, 0, 1))  # (C, H, W) for slic_assign
    nearest = np.zeros((height, width), np.intp)
    distance = np.empty((height, width), np.float32)
    for _ in range(max_num_iter):
        windows = slic_windows(segments, step_y, step_x, height, width)
        changed = _parallel.run(
            lambda rows: slic_assign(planes, segments, windows, spatial_weight, nearest,
                                     distance, rows.start, rows.stop),
            height, width * image.shape[2] * 4)
        if not any(changed):
            break
        _parallel.run(lambda ks: slic_centres(image, nearest, segments, windows, ks.start,
                                              ks.stop),
                      segments.shape[0], height * width // segments.shape[0])

    size = math.prod((1, height, width)) / centroids.shape[0]
    return _enforce_label_connectivity_cython(
        np.ascontiguousarray(nearest[np.newaxis]), int(0.5 * size), int(3 * size),
        start_label=1)[0]


def _prepared(features: np.ndarray, sigma: float) -> np.ndarray:
    """scikit-image's preparation of SLIC's input, step by step: features scaled to
    [0, 1], as a one-slice volume ``(1, H, W, C)``, blurred by ``sigma`` (each block
    of rows on its own core, :func:`segcore._parallel.local_filter`, with the same
    values). Kept between calls (:mod:`segcore._memo`): the number of superpixels
    and the compactness do not change it."""
    from skimage._shared import utils
    from skimage.segmentation.slic_superpixels import gaussian
    from skimage.util import img_as_float

    def compute():
        image = img_as_float(features)
        image = image.astype(utils._supported_float_type(image.dtype), copy=True)
        low, high = image.min(), image.max()
        if np.isnan(low) or np.isinf(low) or np.isinf(high):
            raise ValueError("the image holds NaN or infinite values")
        image -= low
        if high != low:
            image /= high - low
        image = image[..., np.newaxis] if image.ndim == 2 else image
        blur = np.array([sigma, sigma, sigma], dtype=image.dtype) / np.ones(3, image.dtype)
        if (blur > 0).any():
            def one(rows):
                return gaussian(rows[np.newaxis], sigma=list(blur) + [0], mode="reflect")[0]
            image = _parallel.local_filter(one, image, int(4.0 * float(blur[1]) + 0.5))
        return image[np.newaxis]

    return _memo.cached("slic.prepared", features, (float(sigma),), compute)
