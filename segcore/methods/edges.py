"""Edge-based segmentation: an edge map turned into regions."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import feature, filters, measure, morphology
from skimage.segmentation import relabel_sequential

from segcore.color import to_gray
from segcore.filters import blur, gradient_magnitude
from segcore.methods._params import blur_param
from segcore.registry import Param, Segmentation, register

OPERATORS = {"sobel": filters.sobel, "prewitt": filters.prewitt, "scharr": filters.scharr}


def edge_map(gray: np.ndarray, operator: str, *, sigma: float,
             edge_fraction: float) -> np.ndarray:
    """Boolean edge map: pixels whose gradient magnitude is above ``edge_fraction`` times
    the strongest gradient in the image (Canny: its high threshold, with half of
    it as the low one, and thin linked edges).

    Examples
    --------
    >>> g = np.zeros((10, 10), np.float32); g[:, 5:] = 1
    >>> edge_map(g, "sobel", sigma=0, edge_fraction=0.2)[5].nonzero()[0].tolist()
    [4, 5]
    """
    smooth = blur(gray, sigma)
    if operator == "canny":
        # Canny's thresholds are in its own (unnormalised Sobel) magnitude units.
        strongest = float(np.hypot(ndi.sobel(smooth, 0), ndi.sobel(smooth, 1)).max())
        if strongest <= 0:
            return np.zeros(gray.shape, bool)
        return feature.canny(gray, sigma=sigma, low_threshold=0.5 * edge_fraction * strongest,
                             high_threshold=edge_fraction * strongest)
    magnitude = gradient_magnitude(smooth, OPERATORS[operator])
    if magnitude.max() <= 0:
        return np.zeros(gray.shape, bool)
    return magnitude > edge_fraction * magnitude.max()


def edge_regions(edges: np.ndarray, *, close_gaps: int = 1, min_size: int = 20) -> np.ndarray:
    """From edges to regions: thicken the edges by ``close_gaps`` pixels (closing small
    gaps), call every connected area they enclose a region (4-neighbours), and drop
    regions smaller than ``min_size`` pixels (they become edge, label 0; the largest
    region is always kept). The second half of the ``edges`` method, on any
    edge map (the Edges lesson uses it on its own Canny steps).

    Parameters
    ----------
    edges : (H, W) bool ndarray
    close_gaps : int
        0 or more.
    min_size : int
        1 or more.

    Returns
    -------
    labels : (H, W) int32 ndarray
        ``0`` on edges, regions ``1..N``.

    Examples
    --------
    >>> e = np.zeros((10, 10), bool); e[:, 5] = True
    >>> np.unique(edge_regions(e, close_gaps=0, min_size=1)).tolist()
    [0, 1, 2]
    """
    if close_gaps < 0 or min_size < 1:
        raise ValueError(f"close_gaps must be 0 or more and min_size 1 or more, got "
                         f"{close_gaps} and {min_size}")
    edges = np.asarray(edges, bool)
    if close_gaps > 0:
        edges = morphology.dilation(edges, morphology.disk(close_gaps))
    labels = measure.label(~edges, connectivity=1)
    sizes = np.bincount(labels.ravel())
    small = sizes < min_size
    if len(sizes) > 1:
        small[1 + np.argmax(sizes[1:])] = False
    small[0] = True
    labels[small[labels]] = 0
    labels, _, _ = relabel_sequential(labels)
    return labels.astype(np.int32)


@register("edges", label="Edge-based regions", gray_only=True, params=(
    Param("operator", "choice", "sobel", label="Edge detector",
          choices=("sobel", "prewitt", "scharr", "canny"),
          help="How edges are found: a gradient operator, or Canny (thin, linked edges)."),
    blur_param(2.0, "looking for edges"),
    Param("edge_fraction", "float", 0.2, label="Edge strength (fraction of strongest)",
          low=0.01, high=0.95, step=0.01,
          help="A pixel is an edge where its gradient is above this fraction of the strongest "
               "gradient (Canny: the high threshold; half of it is the low one)."),
    Param("close_gaps", "int", 1, label="Close gaps (pixels)", low=0, high=10,
          help="Thicken edges by this many pixels to close small gaps between them."),
    Param("min_size", "int", 20, label="Smallest region (pixels)", low=1, high=10000, log=True,
          help="Regions smaller than this (pixels) are dropped (become edge, label 0); "
               "the largest region is always kept."),
))
def edges(image, *, operator, sigma, edge_fraction, close_gaps, min_size):
    """Find edges, then call every connected area they enclose a region.

    Edge pixels are ``0``; regions are ``1..N``. ``extras["edges"]`` holds the edge map.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((20, 20, 1), np.float32); img[:, 10:] = 1
    >>> edges(img, sigma=0.0, close_gaps=0, min_size=5).n_regions
    2
    """
    gray = to_gray(image)
    edge = edge_map(gray, operator, sigma=sigma, edge_fraction=edge_fraction)
    labels = edge_regions(edge, close_gaps=close_gaps, min_size=min_size)
    return Segmentation(labels=labels, extras={"edges": edge})

