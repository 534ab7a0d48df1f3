"""The loops no numpy call can express, compiled with numba (cached on disk beside
this file): Felzenszwalb's merge (:mod:`segcore.methods._felzenszwalb`) and the
watershed's flood (:mod:`segcore.methods.watershed`). A module of their own, so
that numba is imported only when one of them runs, and defined at module level so
that numba's cache finds them again in a new process."""

import numba
import numpy as np

__all__ = ["merge", "flood", "reconstruct_by_dilation"]


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
    # Pixel indices are unsigned (uint32): numba then skips its check for negative
    # indices on every access, half the time of this loop of random reads (1 MP
    # photo, 4M edges: 0.32 -> 0.17 s, the same labels).
    parent = np.arange(n).astype(np.uint32)
    size = np.ones(n, dtype=np.int64)
    inner = np.zeros(n, dtype=np.float64)  # a region's largest merged edge
    for e in range(costs.size):
        a = _find(parent, np.uint32(first[e]))
        b = _find(parent, np.uint32(second[e]))
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
        a = _find(parent, np.uint32(first[e]))
        b = _find(parent, np.uint32(second[e]))
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
        r = _find(parent, np.uint32(i))
        if number[r] < 0:
            number[r] = count
            count += 1
        labels[i] = number[r]
    return labels


@numba.njit(cache=True, nogil=True, inline="always")
def _earlier(value, age, index, heap, at):
    """Whether an entry ``(value, age, index)`` comes before the heap's entry ``at``:
    lower value, then earlier arrival, then lower pixel index (a total order, so any
    correct queue pops the pixels in the same sequence)."""
    if value != heap[at, 0]:
        return value < heap[at, 0]
    if age != heap[at, 1]:
        return age < heap[at, 1]
    return index < heap[at, 2]


@numba.njit(cache=True, nogil=True, inline="always")
def _put(heap, at, value, age, index):
    heap[at, 0] = value
    heap[at, 1] = age
    heap[at, 2] = index


@numba.njit(cache=True, nogil=True, inline="always")
def _push(heap, items, value, age, index):
    # A 4-ary heap: half the levels of a binary one, and a node's four children side by
    # side in memory. The new entry's place is found by moving parents down into the
    # hole, and the entry is written once.
    child = items
    while child > 0:
        parent = (child - 1) >> 2
        if not _earlier(value, age, index, heap, parent):
            break
        _put(heap, child, heap[parent, 0], heap[parent, 1], heap[parent, 2])
        child = parent
    _put(heap, child, value, age, index)
    return items + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _pop(heap, items):
    """Remove the first entry of a heap of ``items`` entries; returns the new count."""
    items -= 1
    if items == 0:
        return 0
    value, age, index = heap[items, 0], heap[items, 1], heap[items, 2]
    hole = 0
    while True:
        first = 4 * hole + 1
        if first >= items:
            break
        best = first
        for c in range(first + 1, min(first + 4, items)):
            if _earlier(heap[c, 0], heap[c, 1], heap[c, 2], heap, best):
                best = c
        if _earlier(value, age, index, heap, best):
            break
        _put(heap, hole, heap[best, 0], heap[best, 1], heap[best, 2])
        hole = best
    _put(heap, hole, value, age, index)
    return items


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
    # A pixel is queued at the cost max(its value, the level it was reached at), and
    # the level never falls. Most pixels are reached at the level itself (below a ridge
    # the flood has crossed): they wait in a first-in-first-out line instead of the heap.
    # At one level the heap's entries arrived before the line's (they were queued while
    # the level was lower), so the heap goes first; within the line, arrival order is
    # the order of ages. The pixels come out in exactly the heap's order of (cost,
    # arrival, pixel), at a constant cost each: a 1 MP photo's gradient flooded from two
    # seeds took 0.24 s with the heap alone and takes 0.12 s (tested against one queue
    # of (cost, arrival, pixel) on plateaus and many markers).
    line = np.empty(n, np.int64)  # each pixel is queued once at most
    head = 0
    tail = 0
    level = -np.inf
    age = 1
    while items > 0 or head < tail:
        if head < tail and (items == 0 or heap[0, 0] > level):
            index = line[head]
            head += 1
        else:
            level = heap[0, 0]
            index = np.int64(heap[0, 2])
            items = _pop(heap, items)
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
            if image[nb] <= level:
                line[tail] = nb
                tail += 1
            else:
                items = _push(heap, items, image[nb], float(age), float(nb))
    return labels


@numba.njit(cache=True, nogil=True)
def reconstruct_by_dilation(marker, mask):
    """The grayscale reconstruction by dilation of ``marker`` under ``mask`` (both
    ``(H, W)`` float64, ``marker <= mask``), 8-connected: scikit-image's
    ``reconstruction(marker, mask)``, by Vincent's hybrid algorithm (1993). A raster
    scan and an anti-raster scan carry values down and right, then up and left; the
    pixels that can still pass their value on go into a first-in-first-out line until
    nothing changes. Only maxima and minima of the given values are taken, so the
    result is the same numbers (scikit-image sorts every pixel instead).

    Examples
    --------
    >>> mask = np.array([[0.0, 3.0, 3.0, 0.0, 2.0]])
    >>> reconstruct_by_dilation(np.array([[0.0, 1.0, 0.0, 0.0, 0.0]]), mask).tolist()
    [[0.0, 1.0, 1.0, 0.0, 0.0]]
    """
    h, w = mask.shape
    out = marker.copy()
    for r in range(h):  # raster: from the neighbours above and to the left
        for c in range(w):
            v = out[r, c]
            if c > 0 and out[r, c - 1] > v:
                v = out[r, c - 1]
            if r > 0:
                for cc in range(max(c - 1, 0), min(c + 2, w)):
                    if out[r - 1, cc] > v:
                        v = out[r - 1, cc]
            out[r, c] = min(v, mask[r, c])
    line = np.empty(h * w, np.int64)
    tail = 0
    for r in range(h - 1, -1, -1):  # anti-raster: from below and to the right
        for c in range(w - 1, -1, -1):
            v = out[r, c]
            if c < w - 1 and out[r, c + 1] > v:
                v = out[r, c + 1]
            if r < h - 1:
                for cc in range(max(c - 1, 0), min(c + 2, w)):
                    if out[r + 1, cc] > v:
                        v = out[r + 1, cc]
            v = min(v, mask[r, c])
            out[r, c] = v
            # queued if it can still raise a neighbour below or to the right
            ahead = False
            if c < w - 1 and out[r, c + 1] < v and out[r, c + 1] < mask[r, c + 1]:
                ahead = True
            if r < h - 1 and not ahead:
                for cc in range(max(c - 1, 0), min(c + 2, w)):
                    if out[r + 1, cc] < v and out[r + 1, cc] < mask[r + 1, cc]:
                        ahead = True
                        break
            if ahead:
                line[tail] = r * w + c
                tail += 1
    head = 0
    while head < tail:
        p = line[head]
        head += 1
        r = p // w
        c = p - r * w
        v = out[r, c]
        for rr in range(max(r - 1, 0), min(r + 2, h)):
            for cc in range(max(c - 1, 0), min(c + 2, w)):
                if out[rr, cc] < v and out[rr, cc] != mask[rr, cc]:
                    out[rr, cc] = min(v, mask[rr, cc])
                    if tail == len(line):  # full: pack it to its start, or grow it
                        line[:tail - head] = line[head:tail]
                        tail -= head
                        head = 0
                        if tail == len(line):
                            bigger = np.empty(2 * len(line), np.int64)
                            bigger[:tail] = line[:tail]
                            line = bigger
                    line[tail] = rr * w + cc
                    tail += 1
    return out


@numba.njit(cache=True, nogil=True)
def slic_windows(segments, step_y, step_x, height, width):
    """Each SLIC centre's search window ``[y0, y1) x [x0, x1)``, in scikit-image's
    single-precision arithmetic (an empty window for a centre left without pixels).

    Examples
    --------
    >>> slic_windows(np.array([[0, 5, 5, 0.5]], np.float32), 2, 2, 20, 20).tolist()
    [[1, 10, 1, 10]]
    """
    n = segments.shape[0]
    out = np.zeros((n, 4), np.int64)
    reach_y = np.float32(2 * step_y)
    reach_x = np.float32(2 * step_x)
    one = np.float32(1)
    for k in range(n):
        cy = segments[k, 1]
        cx = segments[k, 2]
        if cy != cy or cx != cx:  # NaN: no pixel chose this centre last time
            continue
        out[k, 0] = int(max(cy - reach_y, np.float32(0)))
        out[k, 1] = int(min((cy + reach_y) + one, np.float32(height)))
        out[k, 2] = int(max(cx - reach_x, np.float32(0)))
        out[k, 3] = int(min((cx + reach_x) + one, np.float32(width)))
    return out


@numba.njit(cache=True, nogil=True)
def slic_assign(planes, segments, windows, spatial_weight, nearest, distance, start, stop):
    """One SLIC assignment step on rows ``start:stop``: each pixel goes to the
    nearest centre whose window holds it (colour plus weighted position, float32),
    the first such centre on a tie, as scikit-image's loop over centres decides.
    Rows are independent, so blocks of rows run on separate cores. Returns whether
    any pixel was assigned. ``planes`` is the image channel by channel, C-contiguous
    ``(C, H, W)``.

    Examples
    --------
    >>> img = np.zeros((1, 4, 4), np.float32); img[:, :, 2:] = 1
    >>> seg = np.array([[0, 1, 0.5, 0], [0, 1, 2.5, 1]], np.float32)
    >>> near = np.zeros((4, 4), np.int64); dist = np.zeros((4, 4), np.float32)
    >>> slic_assign(img, seg, slic_windows(seg, 2, 2, 4, 4), np.float32(0.01), near, dist, 0, 4)
    True
    >>> near[0].tolist()
    [1, 1, 2, 2]
    """
    # Each centre's distances along a row are computed into a scratch row, then kept
    # where smaller: the same float32 operations in the same order as scikit-image's
    # loop (which skips a pixel once the position alone is too far, an outcome
    # that cannot change: colour only adds), so the same labels; but without its
    # branch the first loop runs on the CPU's vector units. Indices are unsigned,
    # which spares numba's check for negative indices, the one thing that kept
    # LLVM from vectorising: 2.2-2.4x faster on a 1 MP photo, one core. The channels
    # come as planes, so each is read with contiguous vector loads rather than
    # every third value of interleaved pixels.
    n, features = segments.shape
    width = planes.shape[2]
    channels = features - 3
    xs = np.arange(width).astype(np.float32)
    scratch = np.empty(width, np.float32)
    changed = False
    for y in range(start, stop):
        best = distance[y]
        near = nearest[y]
        for x in range(width):
            best[x] = np.inf
        fy = np.float32(y)
        for k in range(n):
            if y < windows[k, 0] or y >= windows[k, 1] or windows[k, 3] <= windows[k, 2]:
                continue
            changed = True
            x0, x1 = np.uint64(windows[k, 2]), np.uint64(windows[k, 3])
            dz = segments[k, 0]  # (cz - 0) of a one-slice volume, times a spacing of 1
            dz *= dz
            dy = segments[k, 1] - fy
            dy *= dy
            dzy = dz + dy
            cx = segments[k, 2]
            if channels == 3:  # the common cases, unrolled
                r0, r1, r2 = planes[0, y], planes[1, y], planes[2, y]
                c0, c1, c2 = segments[k, 3], segments[k, 4], segments[k, 5]
                for x in range(x0, x1):
                    dx = cx - xs[x]
                    t0 = r0[x] - c0
                    t1 = r1[x] - c1
                    t2 = r2[x] - c2
                    scratch[x] = (dzy + dx * dx) * spatial_weight + ((t0 * t0 + t1 * t1) + t2 * t2)
            elif channels == 1:
                r0 = planes[0, y]
                c0 = segments[k, 3]
                for x in range(x0, x1):
                    dx = cx - xs[x]
                    t0 = r0[x] - c0
                    scratch[x] = (dzy + dx * dx) * spatial_weight + t0 * t0
            else:
                for x in range(x0, x1):
                    dx = cx - xs[x]
                    colour = np.float32(0)
                    for c in range(channels):
                        t = planes[c, y, x] - segments[k, 3 + c]
                        colour += t * t
                    scratch[x] = (dzy + dx * dx) * spatial_weight + colour
            label = k + 1
            for x in range(x0, x1):
                d = scratch[x]
                b = best[x]
                closer = d < b
                best[x] = d if closer else b
                near[x] = label if closer else near[x]
    return changed


@numba.njit(cache=True, nogil=True, error_model="numpy")
def slic_centres(image, nearest, segments, windows, first, last):
    """Move SLIC centres ``first:last`` to the mean position and colour of their
    pixels, summed in raster order in float32 as scikit-image sums them (a centre
    without pixels becomes NaN, as there). ``windows`` are the centres' search
    windows of the assignment that made ``nearest``: a centre's pixels lie in its
    window's rows, so only the rows of these centres' windows are read.

    Centres are placed on a grid row by row, so a block of them covers a band of
    rows: blocks of centres run on separate cores, each reading its band, and each
    centre still adds its pixels in raster order (the same sums as one pass).

    Examples
    --------
    >>> seg = np.zeros((1, 4), np.float32)
    >>> slic_centres(np.ones((2, 2, 1), np.float32), np.ones((2, 2), np.int64), seg,
    ...              np.array([[0, 2, 0, 2]]), 0, 1)
    >>> seg.tolist()
    [[0.0, 0.5, 0.5, 1.0]]
    """
    n, features = segments.shape
    height, width = nearest.shape
    top, bottom = height, 0
    for k in range(first, last):
        if windows[k, 1] > windows[k, 0] and windows[k, 3] > windows[k, 2]:
            top = min(top, windows[k, 0])
            bottom = max(bottom, windows[k, 1])
    count = np.zeros(n, np.int64)
    segments[first:last, :] = 0
    for y in range(top, bottom):
        fy = np.float32(y)
        for x in range(width):
            k = nearest[y, x] - 1
            if k < first or k >= last:
                continue
            count[k] += 1
            segments[k, 1] += fy
            segments[k, 2] += np.float32(x)
            for c in range(3, features):
                segments[k, c] += image[y, x, c - 3]
    for k in range(first, last):
        for c in range(features):
            segments[k, c] /= np.float32(count[k])
