"""The loops no numpy call can express, compiled with numba (cached on disk beside
this file): Felzenszwalb's merge (:mod:`segcore.methods._felzenszwalb`) and the
watershed's flood (:mod:`segcore.methods.watershed`). A module of their own, so
that numba is imported only when one of them runs, and defined at module level so
that numba's cache finds them again in a new process."""

import numba
import numpy as np

__all__ = ["merge", "flood"]


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


@numba.njit(cache=True, nogil=True, inline="always")
def _before(heap, a, b):
    """Heap order: lower value, then earlier arrival, then lower pixel index."""
    if heap[a, 0] != heap[b, 0]:
        return heap[a, 0] < heap[b, 0]
    if heap[a, 1] != heap[b, 1]:
        return heap[a, 1] < heap[b, 1]
    return heap[a, 2] < heap[b, 2]


@numba.njit(cache=True, nogil=True, inline="always")
def _swap(heap, a, b):
    for j in range(3):
        t = heap[a, j]
        heap[a, j] = heap[b, j]
        heap[b, j] = t


@numba.njit(cache=True, nogil=True, inline="always")
def _push(heap, items, value, age, index):
    heap[items, 0] = value
    heap[items, 1] = age
    heap[items, 2] = index
    child = items
    while child > 0:
        parent = (child - 1) // 2
        if not _before(heap, child, parent):
            break
        _swap(heap, parent, child)
        child = parent
    return items + 1


@numba.njit(cache=True, nogil=True)
def flood(elevation, labels):
    """Flood ``elevation`` ``(H, W)`` from the markers in ``labels`` (non-zero),
    4-connected, in place: scikit-image's watershed without compactness or lines.

    Examples
    --------
    >>> relief = np.array([[0.0, 1.0, 2.0, 1.0, 0.0]])
    >>> flood(relief, np.array([[1, 0, 0, 0, 2]], np.int32)).tolist()
    [[1, 1, 1, 2, 2]]
    """
    h, w = elevation.shape
    n = h * w
    image = elevation.ravel()
    out = labels.ravel()
    # A marker pixel whose neighbours are all markers has nothing to flood: it stays
    # off the queue (at 1 MP most pixels are such; the queue then holds a tenth).
    heap = np.empty((n, 3), np.float64)  # value, arrival, pixel: one cache line apart
    items = 0
    for i in range(n):
        if out[i] == 0:
            continue
        row = i // w
        col = i - row * w
        if ((row > 0 and out[i - w] == 0) or (col > 0 and out[i - 1] == 0)
                or (col < w - 1 and out[i + 1] == 0) or (row < h - 1 and out[i + w] == 0)):
            items = _push(heap, items, image[i], 0.0, i)
    age = 1
    while items > 0:
        level = heap[0, 0]
        index = np.int64(heap[0, 2])
        items -= 1
        if items > 0:
            _swap(heap, 0, items)
            i = 0
            while True:
                first = 2 * i + 1
                if first >= items:
                    break
                best = i
                if _before(heap, first, best):
                    best = first
                if first + 1 < items and _before(heap, first + 1, best):
                    best = first + 1
                if best == i:
                    break
                _swap(heap, i, best)
                i = best
        row = index // w
        col = index - row * w
        label = out[index]
        # scikit-image's neighbour order: up, left, right, down.
        for k in range(4):
            if k == 0:
                if row == 0:
                    continue
                nb = index - w
            elif k == 1:
                if col == 0:
                    continue
                nb = index - 1
            elif k == 2:
                if col == w - 1:
                    continue
                nb = index + 1
            else:
                if row == h - 1:
                    continue
                nb = index + w
            if out[nb] != 0:
                continue
            age += 1
            out[nb] = label  # a pixel is labelled when it is queued: nothing reaches it lower
            # A pixel costs at least what the pixel that reached it cost (scikit-image's
            # rule: a basin is shared by arrival time, not won by who spilled first).
            items = _push(heap, items, max(image[nb], level), float(age), float(nb))
    return labels
