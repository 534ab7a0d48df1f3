"""Learned boundaries: at each pixel, the share of people who would draw a region
boundary there, as the shipped ``contours`` U-Net estimates it.

The network was trained on BSDS500 photos (``python -m models.train --task contours``;
its card, ``segcore/nn/models/contours.json``, holds the split and the numbers), with
the share of the human annotators who drew a boundary within one pixel as its target.
It sees every image at BSDS's size (481 px on the longer side) and its answer is
resized back. Hierarchical merging (:mod:`segcore.methods.merge`) uses it as the
boundary strength between regions: unlike the colour gradient, it has learned that
texture (grass, foliage, stripes) is not a boundary and that a faint outline of an
object is one.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from segcore.nn.models import CONTOUR_MODEL, model_file


def boundary_probability(image: np.ndarray, *,
                         progress: Callable[[float], None] | None = None) -> np.ndarray:
    """``(H, W) float32`` in ``[0, 1]``: the estimated share of people who would draw
    a boundary within a pixel of each pixel of ``image`` ``(H, W, C)`` (gray images are
    given the network as three equal channels).

    Examples
    --------
    >>> image = np.zeros((40, 60, 3), np.float32); image[:, 30:] = (0.9, 0.8, 0.1)
    >>> p = boundary_probability(image)
    >>> p.shape, bool(p[:, 28:32].mean() > 3 * p[:, :20].mean())
    ((40, 60), True)
    """
    from segcore.nn.infer import load_model, predict  # torch loads when merging asks

    path = model_file(CONTOUR_MODEL)
    if not path.is_file():  # SEGLAB_MODELS names a folder without it
        raise ValueError(f"the boundary model {path.name} is missing from {path.parent}: copy "
                         f"it there from segcore's models, or choose the colour gradient "
                         f"(boundary=gradient)")
    net, card = load_model(path)
    return predict(np.asarray(image, np.float32), net, card, progress=progress)[..., 1]
