"""Thresholding: global (Otsu and friends) and local."""

from __future__ import annotations

import numpy as np
from skimage import filters

from segcore import _parallel
from segcore.color import to_gray
from segcore.registry import Param, Segmentation, register

GLOBAL = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "yen": filters.threshold_yen,
    "triangle": filters.threshold_triangle,
    "isodata": filters.threshold_isodata,
    "mean": filters.threshold_mean,
    "minimum": filters.threshold_minimum,
}
LOCAL = ("sauvola", "niblack", "gaussian-adaptive")
ALGORITHMS = ("manual", *GLOBAL, "multiotsu", *LOCAL)


def _flat(gray: np.ndarray) -> bool:
    # Two values in a sparse grid of pixels settle it without a pass over every pixel;
    # only an image flat on that grid needs the full check.
    sample = gray[::7, ::7]
    return sample.min() == sample.max() and gray.min() == gray.max()


def global_threshold(gray: np.ndarray, algorithm: str) -> float:
    """One global threshold of a gray image by a named algorithm.

    Raises ``ValueError`` in plain words where the algorithm has no answer
    (a flat image; ``minimum`` on a histogram without two peaks).

    Examples
    --------
    >>> g = np.r_[np.zeros(50), np.ones(50)].reshape(10, 10).astype(np.float32)
    >>> 0 < global_threshold(g, "otsu") < 1
    True
    """
    if _flat(gray):
        raise ValueError("the image is flat (one gray value): there is nothing to threshold")
    try:
        if algorithm == "minimum":
            try:
                return float(filters.threshold_minimum(hist=histogram(gray)))
            except RuntimeError:
                raise ValueError(
                    "the 'minimum' algorithm needs a histogram with two peaks, and this "
                    "image's histogram does not have two even after smoothing; try 'otsu' or "
                    "'triangle'"
                ) from None
        if algorithm in HISTOGRAM_BASED:
            return float(HISTOGRAM_BASED[algorithm](hist=histogram(gray)))
        if algorithm == "triangle":
            return float(triangle(*histogram(gray)))
        return float(GLOBAL[algorithm](gray))
    except ValueError:
        if not _too_close_for_bins(gray):
            raise
    # The gray values lie too close together for a histogram of 256 bins in their
    # precision (a few float32 steps apart): find the threshold on a stretched copy.
    stretched, low, span = _stretch(gray)
    return low + span * global_threshold(stretched, algorithm)


#: The algorithms scikit-image runs on a histogram it is given (see :func:`histogram`).
HISTOGRAM_BASED = {"otsu": filters.threshold_otsu, "yen": filters.threshold_yen,
                   "isodata": filters.threshold_isodata}


def histogram(gray: np.ndarray, bins: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, bin_centres)`` of ``gray`` over ``bins`` equal bins from its
    smallest to its largest value: what scikit-image's global thresholds compute
    first, and most of their time.

    Computed on every core: each thread counts a block of rows with the same edges
    (numpy's own, from the same two ends), and the counts add up to exactly those of
    one ``np.histogram`` of the whole image. Given to scikit-image's thresholds as
    ``hist``, they find the same threshold in two thirds of the time at 4 MP.

    Examples
    --------
    >>> counts, centres = histogram(np.array([[0.0, 0.0], [0.5, 1.0]], np.float32), bins=2)
    >>> counts.tolist(), centres.tolist()
    ([2, 2], [0.25, 0.75])
    """
    flat = gray.reshape(-1)
    low, high = flat.min(), flat.max()
    parts = _parallel.run(lambda rows: np.histogram(flat[rows], bins, (low, high)), flat.size)
    edges = parts[0][1]
    return sum(counts for counts, _ in parts), (edges[:-1] + edges[1:]) / 2.0


def triangle(counts: np.ndarray, centres: np.ndarray) -> float:
    """The triangle threshold (Zack et al. 1977) of a histogram: the bin farthest
    from the line joining the histogram's peak to the end of its longer tail.

    The steps of scikit-image's ``threshold_triangle``, which takes only an image
    and would count its histogram again; tests check both agree.

    Examples
    --------
    >>> triangle(np.array([0, 9, 4, 2, 1, 1]), np.arange(6.0))
    2.0
    """
    nbins = len(counts)
    peak = int(np.argmax(counts))
    peak_height = counts[peak]
    low, high = np.flatnonzero(counts)[[0, -1]]
    if low == high:
        return float(centres[low])
    flip = peak - low < high - peak  # the left tail is the shorter: work on the right
    if flip:
        counts = counts[::-1]
        low = nbins - high - 1
        peak = nbins - peak - 1
    width = peak - low
    x1 = np.arange(width)
    y1 = counts[x1 + low]
    norm = np.sqrt(peak_height ** 2 + width ** 2)
    length = (peak_height / norm) * x1 - (width / norm) * y1
    level = int(np.argmax(length)) + low
    return float(centres[nbins - level - 1 if flip else level])


def _split(gray: np.ndarray, t: float, *, in_place: bool = False) -> np.ndarray:
    """Label 1 at or below ``t``, 2 above: one pass per core, straight into int32.

    ``in_place`` writes the labels over ``gray`` itself (a C-contiguous float32 array
    the caller no longer needs): a float32 and an int32 take the same bytes, so no
    new array is touched. Each piece is compared (into a small temporary) before its
    labels are written. A fresh 4 MB array costs 1000 page faults, about 2 ms on the
    reference machine: at 1 MP a global threshold took 7-8 ms with its own labels
    array and takes 4-5 ms without."""
    flat = gray.reshape(-1)
    labels = flat.view(np.int32) if in_place else np.empty(flat.size, np.int32)
    step = 1 << 16

    def pieces(rows):
        for i in range(rows.start, rows.stop, step):
            j = min(i + step, rows.stop)
            np.add(flat[i:j] > t, np.int32(1), out=labels[i:j], dtype=np.int32)
    _parallel.run(pieces, flat.size)
    return labels.reshape(gray.shape)


def _too_close_for_bins(gray: np.ndarray, bins: int = 256) -> bool:
    """Whether numpy cannot make ``bins`` histogram bins between the smallest and the
    largest value in ``gray``'s own precision (it refuses with "Too many bins")."""
    low, high = gray.min(), gray.max()
    edges = np.linspace(low, high, bins + 1, dtype=np.result_type(low, high, gray))
    return bool(np.any(edges[:-1] >= edges[1:]))


def _stretch(gray: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``gray`` mapped onto ``[0, 1]`` in double precision, with its low end and span:
    a value ``v`` of the copy is ``low + span * v`` in ``gray``."""
    low, high = float(gray.min()), float(gray.max())
    return (gray.astype(np.float64) - low) / (high - low), low, high - low


def _threshold_notes(thresholds: list[float], algorithm: str, local: bool) -> tuple[str, ...]:
    values = ", ".join(f"{t:.3f}" for t in thresholds)
    if local:
        return (f"{algorithm} picked a threshold for every pixel; their median is {values}.",)
    plural = "s" if len(thresholds) > 1 else ""
    return (f"Threshold{plural} ({algorithm}): {values} in gray values from 0 to 1.",)


@register("threshold", label="Threshold", gray_only=True,
          offers=("thresholds",), params=(
    Param("algorithm", "choice", "otsu", label="Algorithm", choices=ALGORITHMS,
          groups=(("global", tuple(GLOBAL) + ("multiotsu",)), ("local", LOCAL)),
          help="How the threshold is chosen: 'manual' uses the level you set; otsu, li, yen, "
               "triangle, isodata, mean and minimum pick one global value from the histogram; "
               "multiotsu picks several; sauvola, niblack and gaussian-adaptive pick one per "
               "pixel from its neighbourhood."),
    Param("level", "float", 0.5, label="Threshold (gray value)", low=0.0, high=1.0, step=0.01,
          help="The threshold for 'manual' (gray value in [0, 1]).", when=("algorithm", ("manual",))),
    Param("classes", "int", 3, label="Classes", low=2, high=5,
          help="Number of classes for 'multiotsu'.", when=("algorithm", ("multiotsu",))),
    Param("window_size", "int", 31, label="Window (pixels)", low=3, high=301, step=2,
          help="Side of the neighbourhood for local algorithms (odd, pixels).",
          when=("algorithm", LOCAL)),
    Param("std_weight", "float", 0.2, label="Weight of local contrast", low=-1.0, high=1.0,
          step=0.01,
          help="Weight of the local standard deviation (the k of Sauvola's and Niblack's "
               "formulas).", when=("algorithm", ("sauvola", "niblack"))),
    Param("offset", "float", 0.0, label="Offset", low=-0.5, high=0.5, step=0.005,
          help="Subtracted from the local Gaussian mean (gaussian-adaptive).",
          when=("algorithm", ("gaussian-adaptive",))),
))
def threshold(image, *, algorithm, level, classes, window_size, std_weight, offset):
    """Split pixels by gray value at one or more thresholds.

    Labels are ordered by intensity: ``1`` below the threshold, ``2`` above
    (``1..classes`` for multiotsu). ``extras["thresholds"]`` holds the global
    threshold(s) used; local algorithms also give ``extras["threshold_map"]``.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
        Reduced to gray first.

    Examples
    --------
    >>> img = np.zeros((8, 8, 1), np.float32); img[:, 4:] = 1
    >>> threshold(img, algorithm="manual", level=0.5).labels[0]
    array([1, 1, 1, 1, 2, 2, 2, 2], dtype=int32)
    """
    gray = to_gray(image)
    extras = {}
    if algorithm in LOCAL:
        if window_size % 2 == 0:
            window_size += 1  # local filters need an odd window
        if algorithm == "sauvola":
            tmap = filters.threshold_sauvola(gray, window_size=window_size, k=std_weight)
        elif algorithm == "niblack":
            tmap = filters.threshold_niblack(gray, window_size=window_size, k=std_weight)
        else:
            tmap = filters.threshold_local(gray, block_size=window_size, method="gaussian",
                                           offset=offset)
        labels = np.add(gray > tmap, np.int32(1), dtype=np.int32)
        extras["threshold_map"] = tmap.astype(np.float32)
        extras["thresholds"] = [float(np.median(tmap))]
    elif algorithm == "multiotsu":
        try:  # scikit-image finds too few gray values itself (np.unique would sort them all)
            cuts = filters.threshold_multiotsu(gray, classes=classes)
        except ValueError:
            if _flat(gray) or not _too_close_for_bins(gray):
                raise ValueError(f"the image has fewer than {classes} gray values, so it "
                                 f"cannot be split into {classes} classes; lower 'classes'"
                                 ) from None
            stretched, low, span = _stretch(gray)  # values a few float32 steps apart
            try:
                cuts = low + span * filters.threshold_multiotsu(stretched, classes=classes)
            except ValueError:
                raise ValueError(f"the image has fewer than {classes} gray values, so it "
                                 f"cannot be split into {classes} classes; lower 'classes'"
                                 ) from None
        labels = np.digitize(gray, cuts).astype(np.int32)
        labels += 1
        extras["thresholds"] = [float(t) for t in cuts]
    else:
        t = level if algorithm == "manual" else global_threshold(gray, algorithm)
        # the gray image is this call's own unless it is the image's only channel
        labels = _split(gray, t, in_place=not np.may_share_memory(gray, image))
        extras["thresholds"] = [float(t)]
    notes = _threshold_notes(extras["thresholds"], algorithm, "threshold_map" in extras)
    return Segmentation(labels=labels, extras=extras, notes=notes)
