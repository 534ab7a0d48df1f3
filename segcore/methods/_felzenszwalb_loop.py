"""The compiled loops of :mod:`segcore.methods._felzenszwalb` (numba, cached on disk
beside this file). A module of their own, so that numba is imported only when a
Felzenszwalb segmentation runs, and so that numba's cache finds them again in a new
process (functions made inside a function are compiled anew each time)."""

import numba
import numpy as np

__all__ = ["merge"]


@numba.njit(cache=True, nogil=True)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@numba.njit(cache=True, nogil=True)
def merge(first, second, costs, n, scale, min_size):
    """Labels ``0..`` of ``n`` pixels from their edges sorted by weight (``first[e]``
    to ``second[e]`` at ``costs[e]``): Felzenszwalb's merge with threshold
    ``scale / size``, then regions under ``min_size`` pixels joined to a neighbour.

    Examples
    --------
    >>> pair = np.array([0], np.int32), np.array([1], np.int32)
    >>> merge(*pair, np.array([0.5]), 2, 1.0, 1).tolist()
    [0, 0]
    >>> merge(*pair, np.array([0.5]), 2, 0.1, 1).tolist()
    [0, 1]
    """
    parent = np.arange(n, dtype=np.int32)
    size = np.ones(n, dtype=np.int64)
    inner = np.zeros(n, dtype=np.float64)  # a region's largest merged edge
    for e in range(costs.size):
        a = _find(parent, first[e])
        b = _find(parent, second[e])
        if a == b:
            continue
        # As scikit-image computes it: the threshold rounded to float32.
        ta = np.float32(inner[a] + scale / size[a])
        tb = np.float32(inner[b] + scale / size[b])
        if costs[e] < min(ta, tb):
            if size[a] < size[b]:
                a, b = b, a
            parent[b] = a
            size[a] += size[b]
            inner[a] = costs[e]
    # Regions smaller than min_size join the neighbour across their weakest edge.
    for e in range(costs.size):
        a = _find(parent, first[e])
        b = _find(parent, second[e])
        if a != b and (size[a] < min_size or size[b] < min_size):
            if size[a] < size[b]:
                a, b = b, a
            parent[b] = a
            size[a] += size[b]
    # Number regions by their first pixel in raster order.
    labels = np.empty(n, dtype=np.int64)
    number = np.full(n, -1, dtype=np.int64)
    count = 0
    for i in range(n):
        r = _find(parent, i)
        if number[r] < 0:
            number[r] = count
            count += 1
        labels[i] = number[r]
    return labels
