"""Aggregation multigrid for graph Laplacians: the random walker's solver.

The random walker's system ``A x = b`` (:func:`segcore.methods.regions.walker_system`)
is a graph Laplacian's rows and columns of the unseeded pixels: off the diagonal
``-w_ij`` (the weight of the link between two unseeded pixels), on it the pixel's
degree, which is its links to unseeded pixels plus ``d_i``, its links to seeds. Its
solver here is Notay's aggregation multigrid (AGMG; Notay 2010, "An aggregation-based
algebraic multigrid method") as flexible conjugate gradients:

- **Coarsening** pairs each pixel with its strongest still unpaired neighbour (a link
  at least a quarter of the pixel's strongest), twice per level: groups of about four
  pixels that follow the image's strong links, never across an edge the walkers
  hardly cross. A group's coarse equation sums its pixels' (Galerkin, piecewise
  constant): again a graph Laplacian, whose weights are the links between groups and
  whose ``d`` is the groups' links to seeds (kept apart, so no sum of large weights
  cancels to a small one).
- **The cycle** smooths by one Gauss-Seidel sweep forwards before the coarse
  correction and one backwards after it, and solves each coarse level by two
  conjugate-gradient steps preconditioned by the next (the K-cycle), which keeps the
  number of outer steps from growing with the size of the image; the coarsest level
  (at most :data:`COARSEST` unknowns) is inverted once.

Building the hierarchy is a few passes over the links (0.3 s at 1 MP, where PyAMG's
Ruge-Stuben took 1.7-2.2 s), every pass a compiled loop (numba, cached on disk), and
six steps take the residual of the 1 MP photo's walker to 1e-3 (0.75 s).
"""

import numba
import numpy as np

#: The coarsest level is solved directly: at most this many unknowns.
COARSEST = 400
#: Past this many unknowns (where coarsening stopped early) the coarsest level is
#: factorised sparse instead of inverted.
DENSE = 3000
#: A link is strong when it weighs at least this fraction of the pixel's strongest.
STRONG = 0.25
#: A pixel whose links to seeds outweigh its other links this many times over is left
#: out of the coarse levels: the smoother alone solves it (Notay's rule).
DOMINANT = 4.0


@numba.njit(cache=True, nogil=True)
def _pairs(indptr, indices, w, d, strong, join):
    """Each node's pair number (``-1``: left out) and how many pairs: a link is
    strong when it weighs at least ``strong`` times the node's strongest. With
    ``join``, a node left alone joins the group of its strongest neighbour."""
    n = indptr.size - 1
    group = np.full(n, -2, np.int64)
    total = np.zeros(n)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            total[i] += w[k]
        if d[i] >= DOMINANT * total[i]:
            group[i] = -1
    count = 0
    for i in range(n):
        if group[i] != -2:
            continue
        strongest = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            strongest = max(strongest, w[k])
        best, weight = -1, 0.0
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            if group[j] == -2 and j != i and w[k] >= strong * strongest and w[k] > weight:
                best, weight = j, w[k]
        group[i] = count
        if best >= 0:
            group[best] = count
        count += 1
    if not join:
        return group, count
    size = np.zeros(count, np.int64)
    for i in range(n):
        if group[i] >= 0:
            size[group[i]] += 1
    for i in range(n):
        g = group[i]
        if g < 0 or size[g] != 1:
            continue
        best, weight = -1, 0.0
        for k in range(indptr[i], indptr[i + 1]):
            if group[indices[k]] >= 0 and indices[k] != i and w[k] > weight:
                best, weight = indices[k], w[k]
        if best >= 0:
            size[g] = 0
            group[i] = group[best]
            size[group[i]] += 1
    # number the groups left 0, 1, ...
    number = np.full(count, -1, np.int64)
    count = 0
    for i in range(n):
        g = group[i]
        if g >= 0:
            if number[g] < 0:
                number[g] = count
                count += 1
            group[i] = number[g]
    return group, count


@numba.njit(cache=True, nogil=True)
def _coarse(indptr, indices, w, d, group, count):
    """The Galerkin coarse Laplacian of ``group``: its links (CSR) and ``d``. One
    pass, into arrays as long as the fine links (single precision and 32-bit
    indices keep them small), then cut to length."""
    n = indptr.size - 1
    # the members of each group, in order
    start = np.zeros(count + 1, np.int64)
    for i in range(n):
        if group[i] >= 0:
            start[group[i] + 1] += 1
    for g in range(count):
        start[g + 1] += start[g]
    members = np.empty(start[count], np.int64)
    fill = start[:-1].copy()
    for i in range(n):
        g = group[i]
        if g >= 0:
            members[fill[g]] = i
            fill[g] += 1
    seen = np.full(count, -1, np.int64)  # the last coarse row that met each column
    cindptr = np.zeros(count + 1, np.int64)
    cindices = np.empty(indices.size, np.int32)
    cw = np.empty(indices.size, np.float32)
    cd = np.zeros(count)
    total = np.zeros(count)  # a coarse row's sums, by column
    pos = 0
    for g in range(count):
        row = pos
        for m in range(start[g], start[g + 1]):
            i = members[m]
            cd[g] += d[i]
            for k in range(indptr[i], indptr[i + 1]):
                h = group[indices[k]]
                if h == g:
                    continue  # a link inside the group
                if h < 0:
                    cd[g] += w[k]  # towards a node left out: held fixed like a seed
                    continue
                if seen[h] != g:
                    seen[h] = g
                    cindices[pos] = h
                    pos += 1
                total[h] += w[k]
        for k in range(row, pos):
            cw[k] = total[cindices[k]]
            total[cindices[k]] = 0.0
        cindptr[g + 1] = pos
    return cindptr, cindices[:pos].copy(), cw[:pos].copy(), cd


@numba.njit(cache=True, nogil=True)
def _diagonal(indptr, w, d):
    out = d.copy()
    for i in range(indptr.size - 1):
        for k in range(indptr[i], indptr[i + 1]):
            out[i] += w[k]
    return out


# In the loops below link positions and columns are read as unsigned (np.uint64):
# numba then skips its check for a negative index on every access, which on these
# loops of scattered reads costs as much as the arithmetic.


@numba.njit(cache=True, nogil=True)
def _sweep_forward(indptr, indices, w, inverse, x, b):
    for i in range(indptr.size - 1):
        s = b[i]
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            s += w[k] * x[np.uint64(indices[k])]
        x[i] = s * inverse[i]


@numba.njit(cache=True, nogil=True)
def _sweep_backward(indptr, indices, w, inverse, x, b):
    for i in range(indptr.size - 2, -1, -1):
        s = b[i]
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            s += w[k] * x[np.uint64(indices[k])]
        x[i] = s * inverse[i]


@numba.njit(cache=True, nogil=True)
def _restrict_residual(indptr, indices, w, diag, x, b, group, count):
    """The coarse right-hand side: ``b - A x`` summed over each group."""
    out = np.zeros(count)
    for i in range(indptr.size - 1):
        g = group[i]
        if g < 0:
            continue
        s = b[i] - diag[i] * x[i]
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            s += w[k] * x[np.uint64(indices[k])]
        out[np.uint64(g)] += s
    return out


@numba.njit(cache=True, nogil=True)
def _prolong(x, group, coarse):
    for i in range(x.size):
        if group[i] >= 0:
            x[i] += coarse[np.uint64(group[i])]


@numba.njit(cache=True, nogil=True)
def _apply(indptr, indices, w, diag, x):
    out = np.empty(x.size)
    for i in range(x.size):
        s = diag[i] * x[i]
        for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            s -= w[k] * x[np.uint64(indices[k])]
        out[i] = s
    return out


@numba.njit(cache=True, nogil=True)
def grid_links(right, down, seeds):
    """The Laplacian of a 4-neighbour pixel grid among its unseeded pixels (``seeds``
    0), as :func:`hierarchy` takes it: ``(unseeded, indptr, indices, w, d)``, the
    unseeded pixels' flat indices, their links to each other (CSR in column order,
    single precision) and their links to seeds. ``right[r, c]`` weighs the link from
    pixel ``(r, c)`` to ``(r, c + 1)``, ``down[r, c]`` to ``(r + 1, c)``.

    Examples
    --------
    >>> seeds = np.array([[1, 0, 0]])
    >>> unseeded, ptr, idx, w, d = grid_links(np.array([[2.0, 3.0, 0]]), np.zeros((1, 3)), seeds)
    >>> unseeded.tolist(), ptr.tolist(), idx.tolist(), w.tolist(), d.tolist()
    ([1, 2], [0, 1, 2], [1, 0], [3.0, 3.0], [2.0, 0.0])
    """
    h, wd = seeds.shape
    number = np.full(h * wd, -1, np.int64)
    count = 0
    for r in range(h):
        for c in range(wd):
            if seeds[r, c] == 0:
                number[r * wd + c] = count
                count += 1
    unseeded = np.empty(count, np.int64)
    indptr = np.zeros(count + 1, np.int64)
    indices = np.empty(4 * count, np.int32)
    w = np.empty(4 * count, np.float32)
    d = np.zeros(count)
    pos = 0
    for r in range(h):
        for c in range(wd):
            i = number[r * wd + c]
            if i < 0:
                continue
            unseeded[i] = r * wd + c
            for side in range(4):  # up, left, right, down: column order
                if side == 0 and r > 0:
                    q, link = (r - 1) * wd + c, np.float32(down[r - 1, c])
                elif side == 1 and c > 0:
                    q, link = r * wd + c - 1, np.float32(right[r, c - 1])
                elif side == 2 and c < wd - 1:
                    q, link = r * wd + c + 1, np.float32(right[r, c])
                elif side == 3 and r < h - 1:
                    q, link = (r + 1) * wd + c, np.float32(down[r, c])
                else:
                    continue
                if number[q] >= 0:
                    indices[pos] = number[q]
                    w[pos] = link
                    pos += 1
                else:
                    d[i] += link
            indptr[i + 1] = pos
    return unseeded, indptr, indices[:pos], w[:pos], d


@numba.njit(cache=True, nogil=True)
def seed_links(right, down, seeds, unseeded, label):
    """Each unseeded pixel's links to seeds of ``label`` (the right-hand side of its
    probability), rounded as :func:`grid_links` rounds them.

    Examples
    --------
    >>> seed_links(np.array([[2.0, 3.0, 0]]), np.zeros((1, 3)), np.array([[1, 0, 2]]),
    ...            np.array([1]), 2).tolist()
    [3.0]
    """
    h, wd = seeds.shape
    out = np.zeros(unseeded.size)
    for i in range(unseeded.size):
        r, c = unseeded[i] // wd, unseeded[i] % wd
        if r > 0 and seeds[r - 1, c] == label:
            out[i] += np.float32(down[r - 1, c])
        if c > 0 and seeds[r, c - 1] == label:
            out[i] += np.float32(right[r, c - 1])
        if c < wd - 1 and seeds[r, c + 1] == label:
            out[i] += np.float32(right[r, c])
        if r < h - 1 and seeds[r + 1, c] == label:
            out[i] += np.float32(down[r, c])
    return out


@numba.njit(cache=True, nogil=True)
def _direction(z, az, r, p, q, beta):
    """Flexible CG's new direction in place, in one pass over the vectors: ``p = z -
    beta p`` and ``q = A p`` (from ``az = A z``). Returns ``p . q`` and ``p . r``."""
    pq, pr = 0.0, 0.0
    for i in range(z.size):
        p[i] = z[i] - beta * p[i]
        q[i] = az[i] - beta * q[i]
        pq += p[i] * q[i]
        pr += p[i] * r[i]
    return pq, pr


@numba.njit(cache=True, nogil=True)
def _step(x, r, p, q, alpha):
    """``x += alpha p`` and ``r -= alpha q`` in place; returns ``r . r``."""
    rr = 0.0
    for i in range(x.size):
        x[i] += alpha * p[i]
        r[i] -= alpha * q[i]
        rr += r[i] * r[i]
    return rr


class _Level:
    """One level's Laplacian (links as CSR, diagonal) and its grouping into the next.

    Links are single precision with 32-bit indices: half the memory each sweep
    streams. The diagonal and the links to seeds are double, the diagonal summed from
    the rounded links, so the matrix is exactly a Laplacian (positive definite, as CG
    needs; the solution a weighted mean of the seeds'), its weights within a rounding
    of the given ones."""

    def __init__(self, indptr, indices, w, d):
        self.indptr, self.indices, self.w, self.d = indptr, indices, w, d
        self.diag = _diagonal(indptr, w, d)
        # Each step of a sweep waits for the one before: a multiplication is a quarter
        # of a division's wait.
        self.inverse = 1 / self.diag
        self.group = None
        self.count = 0

    def __len__(self):
        return self.diag.size

    def apply(self, x):
        return _apply(self.indptr, self.indices, self.w, self.diag, x)


class Hierarchy:
    """The levels of :func:`hierarchy`; :meth:`solve` runs flexible CG on them.

    Examples
    --------
    >>> # 4000 unknowns in a row, a seed at one end: groups of four, three levels
    >>> n = 4000
    >>> ptr = np.r_[0, np.cumsum(np.r_[1, np.full(n - 2, 2), 1])]
    >>> idx = np.concatenate([[1]] + [[i - 1, i + 1] for i in range(1, n - 1)] + [[n - 2]])
    >>> d = np.zeros(n); d[0] = 1
    >>> h = hierarchy(ptr, idx, np.ones(idx.size), d)
    >>> [len(level) for level in h.levels]
    [4000, 1000, 250]
    >>> x, residuals = h.solve(d, tol=1e-6, maxiter=30)
    >>> bool(np.allclose(x, 1, atol=1e-4)), len(residuals) < 30
    (True, True)
    """

    def __init__(self, levels):
        self.levels = levels
        last = levels[-1]
        rows = np.repeat(np.arange(len(last)), np.diff(last.indptr))
        if len(last) > DENSE:
            # Coarsening stopped early (links that no longer pair up): a sparse LU.
            from scipy import sparse
            from scipy.sparse.linalg import splu

            matrix = sparse.csc_array((np.concatenate([last.diag, -last.w]),
                                       (np.concatenate([np.arange(len(last)), rows]),
                                        np.concatenate([np.arange(len(last)), last.indices]))))
            self._coarsest = splu(matrix).solve
            return
        dense = np.diag(last.diag)
        dense[rows, last.indices] -= last.w
        # A pseudo-inverse where rounding has made it singular: the coarsest level only
        # preconditions, so the outer steps still meet the tolerance.
        try:
            inverse = np.linalg.inv(dense)
        except np.linalg.LinAlgError:
            inverse = np.linalg.pinv(dense)
        self._coarsest = inverse.__matmul__

    def __len__(self):
        return len(self.levels)

    def cycle(self, b, at=0):
        """An approximate solve of level ``at``'s system for ``b`` (one K-cycle)."""
        if at == len(self.levels) - 1:
            return self._coarsest(b)
        lv = self.levels[at]
        x = np.zeros(b.size)
        _sweep_forward(lv.indptr, lv.indices, lv.w, lv.inverse, x, b)
        rc = _restrict_residual(lv.indptr, lv.indices, lv.w, lv.diag, x, b, lv.group, lv.count)
        _prolong(x, lv.group, self._coarse_solve(rc, at + 1))
        _sweep_backward(lv.indptr, lv.indices, lv.w, lv.inverse, x, b)
        return x

    def _coarse_solve(self, r, at):
        """Two conjugate-gradient steps on level ``at`` preconditioned by its cycle (one
        where the first already reduced the residual fourfold): Notay's K-cycle."""
        if at == len(self.levels) - 1:
            return self._coarsest(r)
        lv = self.levels[at]
        v1 = self.cycle(r, at)
        w1 = lv.apply(v1)
        rho1, alpha1 = v1 @ w1, v1 @ r
        if rho1 <= 0:
            return v1
        r2 = r - (alpha1 / rho1) * w1
        if r2 @ r2 <= 0.0625 * (r @ r):
            return (alpha1 / rho1) * v1
        v2 = self.cycle(r2, at)
        w2 = lv.apply(v2)
        gamma, beta, alpha2 = v2 @ w1, v2 @ w2, v2 @ r2
        rho2 = beta - gamma * gamma / rho1
        if rho2 <= 0:
            return (alpha1 / rho1) * v1
        return (alpha1 / rho1 - gamma * alpha2 / (rho1 * rho2)) * v1 + (alpha2 / rho2) * v2

    def solve(self, b, *, tol, maxiter, callback=None):
        """``(x, residuals)``: flexible CG until ``|b - A x| <= tol |b|`` or ``maxiter``
        steps, ``residuals`` the norms from ``|b|`` on; ``callback(residuals)`` after
        each step."""
        top = self.levels[0]
        x = np.zeros(b.size)
        r = b.astype(np.float64)
        residuals = [float(np.sqrt(r @ r))]
        if residuals[0] == 0:
            return x, residuals
        p, q = np.zeros(b.size), np.zeros(b.size)
        pq = 1.0
        for _ in range(maxiter):
            z = self.cycle(r)
            # the new direction, orthogonal to the last one (FCG(1)); the first step's
            # last direction is zero
            pq, pr = _direction(z, top.apply(z), r, p, q, (z @ q) / pq)
            if not pq > 0:
                break
            residuals.append(float(np.sqrt(_step(x, r, p, q, pr / pq))))
            if callback is not None:
                callback(residuals)
            if residuals[-1] <= tol * residuals[0]:
                break
        return x, residuals


def hierarchy(indptr, indices, w, d) -> Hierarchy:
    """The multigrid levels of the Laplacian with links ``w`` (CSR, both directions,
    no diagonal) and links to seeds ``d``.

    Examples
    --------
    >>> # a path of 3 unknowns, a seed beside the first: x = (1, 1, 1) solves d
    >>> ptr, idx = np.array([0, 1, 3, 4]), np.array([1, 0, 2, 1])
    >>> h = hierarchy(ptr, idx, np.ones(4), np.array([1.0, 0, 0]))
    >>> x, res = h.solve(np.array([1.0, 0, 0]), tol=1e-8, maxiter=5)
    >>> np.round(x, 6).tolist()
    [1.0, 1.0, 1.0]
    """
    levels = [_Level(np.asarray(indptr, np.int64), np.asarray(indices, np.int32),
                     np.asarray(w, np.float32), np.asarray(d, np.float64))]
    while len(levels[-1]) > COARSEST:
        lv = levels[-1]
        for strong, join in ((STRONG, False), (0.0, True)):
            first, n1 = _pairs(lv.indptr, lv.indices, lv.w, lv.d, strong, join)
            mid = _coarse(lv.indptr, lv.indices, lv.w, lv.d, first, n1)
            second, n2 = _pairs(*mid, strong, join)
            if n2 <= 0.5 * len(lv):
                break
            # Few strong links pair up any more (on the coarse levels of an image with
            # sharp edges the groups form stars, a large one linked to many small
            # ones): then any link will do, the strongest first, and a node left
            # alone joins its strongest neighbour's group.
        if n2 > 0.8 * len(lv):  # nothing pairs up: stop here
            break
        coarse = _coarse(*mid, second, n2)
        lv.group = np.where(first >= 0, second[np.maximum(first, 0)], -1)
        lv.count = n2
        levels.append(_Level(*coarse))
    return Hierarchy(levels)
