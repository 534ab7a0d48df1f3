"""Watershed from seeds or automatic markers."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import measure, segmentation

from segcore import _memo
from segcore.color import to_gray
from segcore.filters import blur, gradient_magnitude
from segcore.methods._params import blur_param
from segcore.methods.threshold import _flat, global_threshold
from segcore.registry import Param, Segmentation, register

MARKERS = ("distance", "h-minima", "low-gradient")


def _distances(gray: np.ndarray):
    """The Otsu foreground and each pixel's distance to the background (inside) and
    to the foreground (outside)."""
    fg = gray > global_threshold(gray, "otsu")
    return fg, ndi.distance_transform_edt(fg), ndi.distance_transform_edt(~fg)


def h_maxima(image: np.ndarray, h: float) -> np.ndarray:
    """The maxima of a 2-D image that stand at least ``h`` above their surroundings, as
    booleans: scikit-image's ``morphology.h_maxima`` for a float image, 8-connected,
    with its reconstruction by dilation compiled
    (:func:`segcore.methods._loops.reconstruct_by_dilation`; scikit-image sorts every
    pixel for it: 3.9 of the 6.9 s of distance markers at 4 MP). Tests check both
    give the same pixels.

    Examples
    --------
    >>> h_maxima(np.array([[0.0, 2.0, 0.0, 0.5, 0.0]]), 1.0).tolist()
    [[False, True, False, False, False]]
    """
    from segcore.methods._loops import reconstruct_by_dilation

    image = np.asarray(image, np.float64)
    if h > np.ptp(image):  # nothing stands that high (scikit-image's answer too)
        return np.zeros(image.shape, bool)
    # scikit-image's guard: the shifted image lies h below, rounding included
    shifted = image - h - 2 * np.finfo(np.float64).resolution * np.abs(image)
    return (image - reconstruct_by_dilation(shifted, image)) >= h


def _distance_markers(fg, inside, outside, *, h: float) -> np.ndarray:
    peaks = h_maxima(inside, max(h * float(inside.max()), 0.5)) & fg
    markers = measure.label(peaks).astype(np.int32)
    markers[markers > 0] += 1
    # The background gets one marker far from every object.
    markers[outside > max(2.0, 0.5 * outside.max())] = 1
    return markers


def find_markers(gray: np.ndarray, gradient: np.ndarray, how: str, *, h: float) -> np.ndarray:
    """Markers for the watershed when the user gave no seeds.

    ``distance``: maxima of the distance transform of an Otsu foreground that stand
    ``h`` (times the largest distance) above their surroundings, so touching round
    objects split while a flat ridge stays one marker; plus one marker for the
    background. ``h-minima``: regional minima of the gradient deeper than ``h``
    times its maximum.
    ``low-gradient``: connected flat areas, where the gradient is below ``h``
    times its maximum.

    Examples
    --------
    >>> g = np.zeros((20, 20), np.float32); g[5:15, 5:15] = 1
    >>> m = find_markers(g, gradient_magnitude(g), "distance", h=0.1)
    >>> int(m.max())
    2
    """
    if how == "distance":
        return _distance_markers(*_distances(gray), h=h)
    if how == "h-minima":
        # scikit-image's h_minima is h_maxima of the negated image, number for number
        # (negation is exact; tested), and then shares the compiled reconstruction
        minima = h_maxima(-np.asarray(gradient, np.float64), h * max(float(gradient.max()), 1e-12))
        return measure.label(minima).astype(np.int32)
    return measure.label(gradient < h * float(gradient.max())).astype(np.int32)


# What does not depend on the markers' prominence is kept between calls on the same
# image (segcore._memo): moving the h slider recomputes only the markers and the flood.


def _relief(gray: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The blurred gray image and its gradient magnitude (the relief to flood)."""
    def compute():
        smooth = blur(gray, sigma)
        return smooth, gradient_magnitude(smooth)
    return _memo.cached("watershed.relief", gray, (sigma,), compute)


def _distance_relief(gray: np.ndarray, sigma: float):
    """The Otsu foreground of the blurred image, the distances inside and outside,
    and the relief they make: objects and background are both basins, the ridge
    their border."""
    def compute():
        smooth = blur(gray, sigma)
        fg, inside, outside = _distances(smooth)
        return fg, inside, outside, -(inside + outside)
    return _memo.cached("watershed.distance", gray, (sigma,), compute)


def flood(elevation: np.ndarray, markers: np.ndarray, *, compactness: float = 0.0,
          watershed_line: bool = False) -> np.ndarray:
    """``skimage.segmentation.watershed(elevation, markers, compactness=...,
    watershed_line=...)`` of a 2-D relief, as ``int32`` labels.

    Without compactness or lines (the defaults) the flood is our compiled loop
    (:func:`segcore.methods._loops.flood`), 2-3x faster than scikit-image's: the
    same queue order (lower level first, then earlier arrival, a pixel labelled as
    it is queued, never below the level that reached it), with two differences that
    change no result. Marker pixels with no unlabelled neighbour, most of the image
    with flat-area markers, never enter the queue (popping them would do nothing);
    and marker pixels at exactly the same level leave the queue in raster order
    rather than in the order scikit-image's heap happens to hold them. The labels
    are scikit-image's wherever no two marker pixels share a level
    (``tests/test_crosscheck.py`` compares them, and measures the agreement on
    reliefs with ties).

    Examples
    --------
    >>> relief = np.array([[0.0, 1.0, 2.0, 1.0, 0.0]], np.float32)
    >>> flood(relief, np.array([[1, 0, 0, 0, 2]])).tolist()
    [[1, 1, 1, 2, 2]]
    """
    if compactness > 0 or watershed_line or elevation.ndim != 2:
        return segmentation.watershed(elevation, markers, compactness=compactness,
                                      watershed_line=watershed_line).astype(np.int32, copy=False)
    from segcore.methods._loops import flood as compiled_flood

    labels = np.array(markers, dtype=np.int32, order="C", copy=True)
    return compiled_flood(np.ascontiguousarray(elevation, dtype=np.float64), labels)


@register("watershed", label="Watershed", seeds="optional", gray_only=True, params=(
    Param("auto_markers", "choice", "low-gradient", label="Markers without seeds", choices=MARKERS,
          help="Where floods start when you give no seeds: peaks of the distance to the background, "
               "deep minima of the gradient, or flat low-gradient areas."),
    Param("h", "float", 0.1, label="Marker prominence (h)", low=0.001, high=0.5, log=True,
          help="How much a marker must stand out, as a fraction of the largest value: height of "
               "distance peaks (distance), depth of gradient minima (h-minima), or the gradient "
               "level that counts as flat (low-gradient). Higher gives fewer regions."),
    blur_param(1.0, "the gradient (it removes minima that are only noise)"),
    Param("regularity", "float", 0.0, label="Regularity", low=0.0, high=1.0, step=0.001,
          help="Above 0 makes regions more regular: the compact watershed (scikit-image's "
               "`compactness`)."),
    Param("watershed_line", "bool", False, label="Lines between regions",
          help="Keep one-pixel lines between regions (label 0)."),
))
def watershed(image, *, seeds, auto_markers, h, sigma, regularity, watershed_line):
    """Flood the gradient image from markers; regions meet where floods touch.

    Seeds (label image or ``(row, col, label)`` list) are the markers when given;
    otherwise markers come from ``auto_markers``. ``extras["markers"]`` holds them.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((10, 10, 1), np.float32); img[:, 5:] = 1
    >>> seg = watershed(img, seeds=[(5, 1, 1), (5, 8, 2)])
    >>> seg.labels[5].tolist()
    [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    """
    gray = to_gray(image)
    if seeds is None and _flat(gray):
        raise ValueError("the image is flat (one gray value everywhere), so there are no "
                         "edges to place markers by; add seeds, or use an image with some "
                         "contrast")
    if seeds is not None:
        marker_img, elevation = seeds, _relief(gray, sigma)[1]
    elif auto_markers == "distance":
        # One threshold and two distance transforms serve the markers and the relief.
        fg, inside, outside, elevation = _distance_relief(gray, sigma)
        marker_img = _distance_markers(fg, inside, outside, h=h)
    else:
        smooth, elevation = _relief(gray, sigma)
        marker_img = find_markers(smooth, elevation, auto_markers, h=h)
    notes = []
    if not marker_img.any():
        if float(elevation.min()) == float(elevation.max()):
            raise ValueError("the image is flat after the blur (no edges anywhere), so there "
                             "is nothing to flood between; add seeds, or use an image with "
                             "some contrast")
        # Gradient minima shallower than h everywhere, or no pixel as flat as h asks: the
        # lowest pixels of the relief start the flood, and the note says what to change.
        marker_img = measure.label(elevation == elevation.min()).astype(np.int32)
        change = "raise" if auto_markers == "low-gradient" else "lower"
        notes.append(f"No markers were found with h = {h:g}, so the flood started from the "
                     f"relief's lowest pixels; {change} 'h' or add seeds for more regions.")
    labels = flood(elevation, marker_img, compactness=regularity, watershed_line=watershed_line)
    # Counting marker labels with bincount, not np.unique: no sort of every pixel.
    n_markers = int(np.count_nonzero(np.bincount(marker_img.ravel())[1:]))
    return Segmentation(labels=labels, extras={"markers": marker_img, "n_markers": n_markers},
                        notes=tuple(notes))
