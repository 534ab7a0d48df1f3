"""The numbers of the Edges lesson: gradient kernels, the kernel sum at one pixel,
Canny's steps one by one, and the regions that edges enclose.

Conventions, stated once. ``x`` runs along columns (to the right) and ``y`` along rows
(down). A kernel is laid on the image as it is printed (correlation: no flip), so
``G_x = sum(k_x * patch)`` is positive where the image gets brighter to the right and
``G_y`` where it gets brighter downward. Every kernel is the difference ``(-1, 0, 1)``
across the edge times smoothing weights along it, and those weights are divided by their
sum (Prewitt ``(1, 1, 1) / 3``, Sobel ``(1, 2, 1) / 4``, Scharr ``(3, 10, 3) / 16``): a
step of height ``h`` then gives ``G = h`` with every kernel, so their responses compare.
With this scaling ``G_x`` equals scikit-image's ``sobel_v`` (``prewitt_v``, ``scharr_v``)
and ``G_y`` its ``sobel_h``; the magnitude ``sqrt(G_x^2 + G_y^2)`` is ``sqrt(2)`` times
``skimage.filters.sobel``, which averages the two squares instead of adding them. Borders
are mirrored (``d c b a | a b c d``, scipy's ``"reflect"``).

>>> g = np.zeros((5, 6)); g[:, 3:] = 1
>>> float(gradient(g, operator="scharr").gx[2, 2])
1.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from scipy import ndimage as ndi
from skimage import color as skcolor
from skimage import draw, filters

from segcore import viz

__all__ = [
    "OPERATORS", "CANNY_STEPS", "kernel_weights", "kernel", "Gradient", "gradient",
    "PixelSum", "pixel_sum", "strongest_pixel", "compass", "kernel_latex", "sum_latex",
    "display_scale", "signed_picture", "magnitude_picture", "direction_picture",
    "direction_wheel", "smooth", "thin", "hysteresis", "CannySteps", "canny_steps",
    "weak_pixel", "chain", "step_notice", "share_below", "canny_picture", "mark_pixel", "crop",
    "close_up",
    "neighbourhood_figure", "magnitude_histogram_figure",
]

#: The smoothing weights of each kernel along the edge (before dividing by their sum).
SMOOTHING = {"prewitt": (1, 1, 1), "sobel": (1, 2, 1), "scharr": (3, 10, 3)}
#: The kernels the lesson compares, in the order it shows them.
OPERATORS = tuple(SMOOTHING)
#: The difference across the edge: the pixel after minus the pixel before.
DIFFERENCE = (-1, 0, 1)
#: Canny's steps as the lesson shows them: blur, gradient, thinning (non-maximum
#: suppression), the two thresholds, and hysteresis (linking weak pixels to strong).
CANNY_STEPS = ("smooth", "gradient", "thin", "threshold", "hysteresis")

#: Colours of the Canny pictures (Okabe-Ito, colour-blind safe).
STRONG_COLOUR = (1.0, 1.0, 1.0)
WEAK_COLOUR = (0.9, 0.6, 0.0)
POSITIVE_COLOUR = (0.9, 0.6, 0.0)
NEGATIVE_COLOUR = (0.0, 0.45, 0.70)
KEPT_COLOUR = (0.0, 0.62, 0.45)
DROPPED_COLOUR = (0.84, 0.37, 0.0)
MARK_COLOUR = (0.34, 0.71, 0.91)

#: Gradient magnitudes at or below this are rounding noise (a flat image blurred gives
#: about 1e-16), not change: far below one step of an 8-bit image (1/255).
FLAT = 1e-9

_AXES = ("x", "y")


def _check_gray(gray) -> np.ndarray:
    gray = np.asarray(gray)
    if gray.ndim != 2:
        raise ValueError(f"expected a gray image of shape (H, W), got shape {gray.shape}")
    return gray.astype(np.float64)


def _check_operator(operator: str) -> None:
    if operator not in SMOOTHING:
        raise ValueError(f"operator must be one of {', '.join(OPERATORS)}, got {operator!r}")


def kernel_weights(operator: str, *, axis: str) -> tuple[np.ndarray, int]:
    """A kernel as whole numbers and the number they are divided by.

    Parameters
    ----------
    operator : {"prewitt", "sobel", "scharr"}
    axis : {"x", "y"}
        ``"x"`` measures change along columns (left to right), ``"y"`` along rows
        (top to bottom); the ``y`` kernel is the ``x`` kernel transposed.

    Returns
    -------
    weights : (3, 3) int ndarray
    divisor : int
        The sum of the smoothing weights.

    Examples
    --------
    >>> w, d = kernel_weights("sobel", axis="x")
    >>> w.tolist(), d
    ([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 4)
    """
    _check_operator(operator)
    if axis not in _AXES:
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    smoothing = np.array(SMOOTHING[operator])
    weights = np.outer(smoothing, DIFFERENCE)
    return (weights if axis == "x" else weights.T), int(smoothing.sum())


def kernel(operator: str, *, axis: str) -> np.ndarray:
    """A kernel as the lesson applies it: :func:`kernel_weights` divided by the divisor.

    Returns
    -------
    kernel : (3, 3) float64 ndarray
        Its positive and its negative weights each sum to 1.

    Examples
    --------
    >>> kernel("prewitt", axis="y")[2].round(3).tolist()
    [0.333, 0.333, 0.333]
    """
    weights, divisor = kernel_weights(operator, axis=axis)
    return weights / divisor


@dataclass(frozen=True)
class Gradient:
    """The change of a gray image along rows and columns at every pixel.

    Attributes
    ----------
    gy, gx : (H, W) float64 ndarray
        Change downward and to the right (see the module's conventions).

    Examples
    --------
    >>> g = Gradient(gy=np.array([[3.0]]), gx=np.array([[4.0]]))
    >>> float(g.magnitude[0, 0]), float(np.degrees(g.direction[0, 0])).__round__(1)
    (5.0, 36.9)
    """

    gy: np.ndarray
    gx: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        """``sqrt(gx**2 + gy**2)``, ``(H, W) float64``: how fast the image changes."""
        # Written as Canny writes it (not np.hypot), so the thinning compares the very
        # same numbers as scikit-image.
        return np.sqrt(self.gy * self.gy + self.gx * self.gx)

    @property
    def direction(self) -> np.ndarray:
        """``atan2(gy, gx)`` in radians, ``(H, W) float64`` in ``[-pi, pi]``: the way
        the image gets brighter, 0 to the right, ``pi/2`` down (rows count downward,
        so angles turn clockwise on screen)."""
        return np.arctan2(self.gy, self.gx)


def gradient(gray: np.ndarray, *, operator: str = "sobel") -> Gradient:
    """Apply an operator's ``x`` and ``y`` kernels to every pixel.

    Each kernel is applied as two passes: the difference across the edge, then the
    smoothing along it (the same sum as the 3 x 3 kernel, in fewer steps).

    Parameters
    ----------
    gray : (H, W) float ndarray
    operator : {"prewitt", "sobel", "scharr"}

    Returns
    -------
    Gradient

    Examples
    --------
    >>> g = np.zeros((4, 6)); g[:, 3:] = 0.5
    >>> gradient(g).gx[1].tolist()
    [0.0, 0.0, 0.5, 0.5, 0.0, 0.0]
    """
    gray = _check_gray(gray)
    _check_operator(operator)
    smoothing = np.array(SMOOTHING[operator], np.float64)
    smoothing /= smoothing.sum()
    out = []
    for axis in (0, 1):
        change = ndi.correlate1d(gray, np.array(DIFFERENCE, np.float64), axis=axis, mode="reflect")
        out.append(ndi.correlate1d(change, smoothing, axis=1 - axis, mode="reflect"))
    return Gradient(gy=out[0], gx=out[1])


@dataclass(frozen=True)
class PixelSum:
    """The kernel sums at one pixel, with everything they are made of.

    Attributes
    ----------
    row, col : int
    operator : str
    patch : (3, 3) float64 ndarray
        The pixel and its 8 neighbours (mirrored at the image border).
    gx, gy : float
        ``sum(kernel(operator, axis="x") * patch)`` and the same with the ``y`` kernel.

    Examples
    --------
    >>> p = PixelSum(0, 0, "sobel", np.zeros((3, 3)), 0.0, -0.5)
    >>> p.magnitude, p.direction_degrees
    (0.5, -90.0)
    """

    row: int
    col: int
    operator: str
    patch: np.ndarray
    gx: float
    gy: float

    @property
    def magnitude(self) -> float:
        """``sqrt(gx**2 + gy**2)``."""
        return float(np.sqrt(self.gx * self.gx + self.gy * self.gy))

    @property
    def direction_degrees(self) -> float:
        """``atan2(gy, gx)`` in degrees, 0 to the right, 90 down."""
        return float(np.degrees(np.arctan2(self.gy, self.gx)))


def pixel_sum(gray: np.ndarray, row: int, col: int, *, operator: str = "sobel") -> PixelSum:
    """The 3 x 3 neighbourhood of one pixel multiplied by each kernel and added up: the
    same numbers :func:`gradient` gives at that pixel, written out.

    Parameters
    ----------
    gray : (H, W) float ndarray
    row, col : int
        The pixel, counted from the top-left corner.
    operator : {"prewitt", "sobel", "scharr"}

    Examples
    --------
    >>> g = np.zeros((5, 5)); g[:, 3:] = 1
    >>> p = pixel_sum(g, 2, 2)
    >>> p.patch[1].tolist(), p.gx, p.gy
    ([0.0, 0.0, 1.0], 1.0, 0.0)
    """
    gray = _check_gray(gray)
    _check_operator(operator)
    h, w = gray.shape
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"pixel ({row}, {col}) is outside the {h} x {w} image")
    # numpy's "symmetric" padding is scipy's "reflect": the border pixel is repeated.
    padded = np.pad(gray[max(row - 1, 0):row + 2, max(col - 1, 0):col + 2],
                    ((int(row == 0), int(row == h - 1)), (int(col == 0), int(col == w - 1))),
                    mode="symmetric")
    gx = float((kernel(operator, axis="x") * padded).sum())
    gy = float((kernel(operator, axis="y") * padded).sum())
    return PixelSum(row=int(row), col=int(col), operator=operator, patch=padded, gx=gx, gy=gy)


def strongest_pixel(magnitude: np.ndarray) -> tuple[int, int]:
    """Where the gradient magnitude is largest (the first such pixel).

    Examples
    --------
    >>> strongest_pixel(np.array([[0.0, 0.2], [0.9, 0.1]]))
    (1, 0)
    """
    magnitude = np.asarray(magnitude)
    row, col = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
    return int(row), int(col)


def compass(degrees: float) -> str:
    """A gradient direction (as :attr:`PixelSum.direction_degrees`) in words: where
    the image gets brighter.

    Examples
    --------
    >>> compass(0.0), compass(90.0), compass(-135.0)
    ('right', 'down', 'up-left')
    """
    names = ("right", "down-right", "down", "down-left", "left", "up-left", "up", "up-right")
    return names[int(np.round(degrees / 45.0)) % 8]


def kernel_latex(operator: str, *, axis: str) -> str:
    """A kernel as a LaTeX matrix with its divisor in front.

    Examples
    --------
    >>> print(kernel_latex("prewitt", axis="x"))
    \\tfrac{1}{3}\\begin{bmatrix}-1 & 0 & 1\\\\ -1 & 0 & 1\\\\ -1 & 0 & 1\\end{bmatrix}
    """
    weights, divisor = kernel_weights(operator, axis=axis)
    rows = r"\\ ".join(" & ".join(str(int(v)) for v in row) for row in weights)
    return rf"\tfrac{{1}}{{{divisor}}}\begin{{bmatrix}}{rows}\end{{bmatrix}}"


def sum_latex(p: PixelSum, *, axis: str, digits: int = 3) -> str:
    """The kernel sum at a pixel written out, one line per kernel row (zero weights
    left out), as a LaTeX ``aligned`` block ending in the total.

    Examples
    --------
    >>> g = np.zeros((3, 3)); g[:, 2] = 1
    >>> print(sum_latex(pixel_sum(g, 1, 1, operator="sobel"), axis="y", digits=1))
    \\begin{aligned}G_y &= \\textstyle\\sum k_y \\odot P\\\\
    &= \\tfrac{1}{4}\\big[(-1)(0.0) + (-2)(0.0) + (-1)(1.0)\\\\
    &\\qquad + (1)(0.0) + (2)(0.0) + (1)(1.0)\\big]\\\\
    &= 0.0\\end{aligned}
    """
    weights, divisor = kernel_weights(p.operator, axis=axis)
    lines = [" + ".join(f"({int(wt)})({v:.{digits}f})" for wt, v in zip(w_row, p_row) if wt)
             for w_row, p_row in zip(weights, p.patch) if w_row.any()]
    total = p.gx if axis == "x" else p.gy
    body = "\\\\\n&\\qquad + ".join(lines)
    return (rf"\begin{{aligned}}G_{axis} &= \textstyle\sum k_{axis} \odot P\\" "\n"
            rf"&= \tfrac{{1}}{{{divisor}}}\big[{body}\big]\\" "\n"
            rf"&= {total:.{digits}f}\end{{aligned}}")


# --------------------------------------------------------------------------- pictures


def display_scale(values: np.ndarray) -> float:
    """The value shown at full brightness: the 99th percentile of ``|values|``, so a
    few extreme pixels do not leave the rest dark (1 for an all-zero array).

    Examples
    --------
    >>> display_scale(np.arange(101.0))
    99.0
    """
    scale = float(np.percentile(np.abs(values), 99))
    if scale <= 0:
        scale = float(np.abs(values).max(initial=0.0))
    return scale if scale > 0 else 1.0


def signed_picture(values: np.ndarray, *, scale: float) -> np.ndarray:
    """A signed array (``G_x`` or ``G_y``) as colours: orange where positive, blue where
    negative, black at 0, full colour at ``|value| >= scale``.

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> signed_picture(np.array([[1.0, -1.0, 0.0]]), scale=1.0)[0].round(2).tolist()
    [[0.9, 0.6, 0.0], [0.0, 0.45, 0.7], [0.0, 0.0, 0.0]]
    """
    values = np.asarray(values, np.float64)
    strength = np.clip(np.abs(values) / scale, 0, 1)[..., None]
    colour = np.where(values[..., None] >= 0, np.array(POSITIVE_COLOUR), np.array(NEGATIVE_COLOUR))
    return (strength * colour).astype(np.float32)


def magnitude_picture(magnitude: np.ndarray, *, scale: float) -> np.ndarray:
    """Gradient magnitude as brightness, white at ``scale`` and above.

    Returns
    -------
    picture : (H, W, 1) float32 ndarray in [0, 1]

    Examples
    --------
    >>> magnitude_picture(np.array([[0.0, 0.5, 2.0]]), scale=1.0)[..., 0].tolist()
    [[0.0, 0.5, 1.0]]
    """
    return np.clip(np.asarray(magnitude, np.float64) / scale, 0, 1)[..., None].astype(np.float32)


def direction_picture(grad: Gradient, *, scale: float) -> np.ndarray:
    """Gradient direction as hue and magnitude as brightness (a flat area is black,
    whatever its direction).

    Hue follows :func:`direction_wheel`: red to the right, then yellow, green, cyan
    (left), blue and magenta, turning clockwise on screen.

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> g = Gradient(gy=np.zeros((1, 2)), gx=np.array([[1.0, -1.0]]))
    >>> direction_picture(g, scale=1.0)[0].round(2).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    """
    hue = np.mod(grad.direction, 2 * np.pi) / (2 * np.pi)
    value = np.clip(grad.magnitude / scale, 0, 1)
    hsv = np.stack([hue, np.ones_like(hue), value], axis=-1)
    return skcolor.hsv2rgb(hsv).astype(np.float32)


def direction_wheel(size: int = 96) -> np.ndarray:
    """The key to :func:`direction_picture`: a disc whose colour at each point is the
    colour of a gradient pointing that way from the centre (black outside).

    Returns
    -------
    picture : (size, size, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> w = direction_wheel(9)
    >>> w[4, 8].round(2).tolist(), w[0, 0].tolist()
    ([1.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    """
    c = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size] - c
    radius = np.hypot(x, y)
    grad = Gradient(gy=y, gx=x)
    wheel = direction_picture(grad, scale=1.0)
    wheel[radius > c + 0.5] = 0
    wheel[radius < 0.5] = 0
    # Brightness says nothing on the key: only the hue does.
    inside = (radius <= c + 0.5) & (radius >= 0.5)
    hsv = skcolor.rgb2hsv(wheel)
    hsv[..., 2] = np.where(inside, 1.0, 0.0)
    return skcolor.hsv2rgb(hsv).astype(np.float32)


# --------------------------------------------------------------------------- Canny


def smooth(gray: np.ndarray, *, sigma: float) -> np.ndarray:
    """Canny's first step: a Gaussian blur of width ``sigma`` (pixels).

    Beyond the border the image counts as missing: each pixel is divided by the share
    of the blur that fell inside the image, so the frame does not darken (as
    ``skimage.feature.canny`` does).

    Parameters
    ----------
    gray : (H, W) float ndarray
    sigma : float
        ``0`` leaves the image as it is.

    Returns
    -------
    smoothed : (H, W) float64 ndarray

    Examples
    --------
    >>> smooth(np.full((4, 4), 0.5), sigma=1.0).round(6).max()
    np.float64(0.5)
    """
    gray = _check_gray(gray)
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be 0 or more, got {sigma}")
    blur = dict(sigma=sigma, mode="constant", cval=0.0, preserve_range=False)
    return filters.gaussian(gray, **blur) / filters.gaussian(np.ones_like(gray), **blur)


def _shifted(values: np.ndarray, dr: int, dc: int) -> np.ndarray:
    # The interior pixels' neighbours at offset (dr, dc): a view the size of the interior.
    h, w = values.shape
    return values[1 + dr:h - 1 + dr, 1 + dc:w - 1 + dc]


def thin(grad: Gradient) -> np.ndarray:
    """Canny's thinning (non-maximum suppression): keep a pixel only where its gradient
    magnitude is at least that of both neighbours along the gradient direction.

    The neighbours' magnitudes are read between the two nearest pixels on each side,
    interpolated linearly by the direction (as ``skimage.feature.canny`` does). Pixels
    on the image border and pixels without any gradient (at most :data:`FLAT`) are
    never kept.

    Parameters
    ----------
    grad : Gradient
        Usually of the smoothed image.

    Returns
    -------
    thinned : (H, W) bool ndarray

    Examples
    --------
    >>> g = np.zeros((7, 7)); g[:, 3:] = 1
    >>> thin(gradient(smooth(g, sigma=1.0)))[3].nonzero()[0].tolist()
    [3]
    """
    m = grad.magnitude
    thinned = np.zeros(m.shape, bool)
    if min(m.shape) < 3:
        return thinned
    gy, gx, centre = _shifted(grad.gy, 0, 0), _shifted(grad.gx, 0, 0), _shifted(m, 0, 0)
    ay, ax = np.abs(gy), np.abs(gx)
    # Four sectors of direction. In each, one neighbour pair sits straight across (n1)
    # and one diagonally (n2); the weight w moves between them with the angle.
    same_sign = ((gy > 0) & (gx > 0)) | ((gy <= 0) & (gx <= 0))
    steep = ay > ax
    sectors = [
        (same_sign & steep, ay, ax, ((1, 0), (1, 1)), ((-1, 0), (-1, -1))),
        (same_sign & ~steep, ax, ay, ((0, 1), (1, 1)), ((0, -1), (-1, -1))),
        (~same_sign & (ay < ax), ax, ay, ((0, 1), (-1, 1)), ((0, -1), (1, -1))),
        (~same_sign & ~(ay < ax), ay, ax, ((-1, 0), (-1, 1)), ((1, 0), (1, -1))),
    ]
    keep = np.zeros(centre.shape, bool)
    for where, big, small, ahead, behind in sectors:
        w = np.divide(small, big, out=np.zeros_like(small), where=where & (big > 0))
        sides = []
        for (r1, c1), (r2, c2) in (ahead, behind):
            sides.append(_shifted(m, r2, c2) * w + _shifted(m, r1, c1) * (1.0 - w) <= centre)
        keep |= where & sides[0] & sides[1]
    thinned[1:-1, 1:-1] = keep & (centre > FLAT)
    return thinned


def hysteresis(magnitude: np.ndarray, thinned: np.ndarray, *, low: float,
               high: float) -> np.ndarray:
    """Canny's last step: thinned pixels at or above ``high`` are edges (strong); those
    from ``low`` up are edges too if a chain of such pixels (8-neighbours) links them
    to a strong pixel (weak pixels kept); the rest are dropped.

    Parameters
    ----------
    magnitude : (H, W) float ndarray
    thinned : (H, W) bool ndarray
        From :func:`thin`.
    low, high : float
        Thresholds on ``magnitude``, ``0 < low <= high``.

    Returns
    -------
    edges : (H, W) bool ndarray

    Examples
    --------
    >>> m = np.array([[0.9, 0.3, 0.0, 0.3]])
    >>> hysteresis(m, m > 0, low=0.2, high=0.5).tolist()
    [[True, True, False, False]]
    """
    if not 0 < low <= high:
        raise ValueError(f"thresholds must satisfy 0 < low <= high, got low={low}, high={high}")
    candidate = np.asarray(thinned, bool) & (magnitude >= low)
    chains, count = ndi.label(candidate, structure=np.ones((3, 3), bool))
    linked = np.zeros(count + 1, bool)
    linked[np.unique(chains[candidate & (magnitude >= high)])] = True
    linked[0] = False
    return linked[chains]


@dataclass(frozen=True)
class CannySteps:
    """Every intermediate image of one Canny run.

    Attributes
    ----------
    sigma : float
    smoothed : (H, W) float64 ndarray
    gradient : Gradient
        Sobel, of ``smoothed``.
    thinned : (H, W) bool ndarray
    low, high : float
        The thresholds in gradient-magnitude units (the fractions times ``strongest``).
    strongest : float
        The largest gradient magnitude of ``smoothed``.
    edges : (H, W) bool ndarray
        The result.

    Examples
    --------
    >>> s = canny_steps(np.eye(8), sigma=1.0, low_fraction=0.1, high_fraction=0.3)
    >>> s.edges.shape, bool((s.edges <= s.thinned).all())
    ((8, 8), True)
    """

    sigma: float
    smoothed: np.ndarray
    gradient: Gradient
    thinned: np.ndarray
    low: float
    high: float
    strongest: float
    edges: np.ndarray

    @property
    def magnitude(self) -> np.ndarray:
        """The gradient magnitude of the smoothed image."""
        return self.gradient.magnitude

    @property
    def strong(self) -> np.ndarray:
        """Thinned pixels at or above ``high``."""
        return self.thinned & (self.magnitude >= self.high)

    @property
    def weak(self) -> np.ndarray:
        """Thinned pixels from ``low`` up to (not including) ``high``."""
        m = self.magnitude
        return self.thinned & (m >= self.low) & (m < self.high)

    def counts(self) -> dict:
        """Pixel counts of each step: ``changing`` (any gradient), ``thinned``,
        ``strong``, ``weak``, ``kept`` (weak pixels linked to a strong one),
        ``dropped`` and ``edges``.

        Examples
        --------
        >>> s = canny_steps(np.eye(8), sigma=1.0, low_fraction=0.1, high_fraction=0.3)
        >>> c = s.counts(); c["kept"] + c["dropped"] == c["weak"]
        True
        """
        weak = self.weak
        return {"pixels": int(self.edges.size), "changing": int((self.magnitude > 0).sum()),
                "thinned": int(self.thinned.sum()), "strong": int(self.strong.sum()),
                "weak": int(weak.sum()), "kept": int((weak & self.edges).sum()),
                "dropped": int((weak & ~self.edges).sum()), "edges": int(self.edges.sum())}


def canny_steps(gray: np.ndarray, *, sigma: float = 1.0, low_fraction: float = 0.1,
                high_fraction: float = 0.3) -> CannySteps:
    """Canny's edge detector one step at a time: :func:`smooth`, :func:`gradient`
    (Sobel), :func:`thin`, two thresholds, :func:`hysteresis`.

    The result is ``skimage.feature.canny(gray, sigma, 4 * low, 4 * high)``, pixel for
    pixel: scikit-image's Sobel is not divided by 4, so its magnitudes are 4 times ours.

    Parameters
    ----------
    gray : (H, W) float ndarray
    sigma : float
        Blur width in pixels, 0 or more.
    low_fraction, high_fraction : float
        The thresholds as fractions of the strongest gradient magnitude after the
        blur, ``0 < low_fraction <= high_fraction <= 1``.

    Returns
    -------
    CannySteps

    Examples
    --------
    >>> g = np.zeros((12, 12)); g[3:9, 3:9] = 1
    >>> s = canny_steps(g, sigma=1.0, low_fraction=0.1, high_fraction=0.3)
    >>> int(s.edges.sum()) > 0, round(s.strongest, 3)
    (True, 0.629)
    """
    if not 0 < low_fraction <= high_fraction <= 1:
        raise ValueError("thresholds must satisfy 0 < low_fraction <= high_fraction <= 1, got "
                         f"{low_fraction} and {high_fraction}")
    smoothed = smooth(gray, sigma=sigma)
    grad = gradient(smoothed, operator="sobel")
    magnitude = grad.magnitude
    strongest = float(magnitude.max(initial=0.0))
    thinned = thin(grad)
    low, high = low_fraction * strongest, high_fraction * strongest
    if strongest > FLAT:
        edges = hysteresis(magnitude, thinned, low=low, high=high)
    else:  # a flat image has no edges at any threshold
        edges = np.zeros(magnitude.shape, bool)
    return CannySteps(sigma=float(sigma), smoothed=smoothed, gradient=grad, thinned=thinned,
                      low=low, high=high, strongest=strongest, edges=edges)


def weak_pixel(steps: CannySteps, *, rng: int = 0) -> tuple[int, int, bool] | None:
    """A weak pixel to ask about, and whether hysteresis keeps it: kept and dropped
    pixels are equally likely to be picked when both exist. ``None`` without weak pixels.

    Examples
    --------
    >>> g = np.zeros((16, 16)); g[4:12, 4:12] = 1; g[6:10, 6:10] = 0.9
    >>> r, c, kept = weak_pixel(canny_steps(g, low_fraction=0.02, high_fraction=0.5))
    >>> isinstance(kept, bool)
    True
    """
    gen = np.random.default_rng(rng)
    weak = steps.weak
    groups = [np.argwhere(weak & steps.edges), np.argwhere(weak & ~steps.edges)]
    groups = [g for g in groups if len(g)]
    if not groups:
        return None
    group = groups[int(gen.integers(len(groups)))]
    row, col = group[int(gen.integers(len(group)))]
    return int(row), int(col), bool(steps.edges[row, col])


def chain(steps: CannySteps, row: int, col: int) -> np.ndarray:
    """The chain hysteresis follows from one pixel: the 8-connected thinned pixels at
    or above ``low`` that it belongs to (empty when the pixel is not one of them).

    Examples
    --------
    >>> m = np.array([[0.9, 0.3, 0.0, 0.3]])
    >>> s = CannySteps(0.0, m, Gradient(m, m * 0), m > 0, 0.2, 0.5, 0.9, m > 0.5)
    >>> chain(s, 0, 1).tolist()
    [[True, True, False, False]]
    """
    candidate = steps.thinned & (steps.magnitude >= steps.low)
    if not candidate[row, col]:
        return np.zeros(candidate.shape, bool)
    chains, _ = ndi.label(candidate, structure=np.ones((3, 3), bool))
    return chains == chains[row, col]


def share_below(values: np.ndarray, value: float) -> float:
    """The fraction of ``values`` below ``value`` (0 to 1).

    Examples
    --------
    >>> share_below(np.arange(10), 3.5)
    0.4
    """
    return float(np.mean(np.asarray(values) < value))


def step_notice(steps: CannySteps, step: str, *, revealed: bool = True) -> str:
    """What to notice at one of Canny's steps, with this run's numbers. With
    ``revealed=False`` the hysteresis step keeps its result to itself.

    Examples
    --------
    >>> s = canny_steps(np.eye(12), sigma=1.0)
    >>> step_notice(s, "thin").startswith("Thinning keeps")
    True
    """
    if step not in CANNY_STEPS:
        raise ValueError(f"step must be one of {', '.join(CANNY_STEPS)}, got {step!r}")
    c = steps.counts()
    if step == "smooth":
        if steps.sigma == 0:
            return ("No blur (sigma 0): every speck of noise keeps its full gradient and may "
                    "turn into an edge. Raise sigma and watch the gradient calm down.")
        reach = int(np.ceil(3 * steps.sigma))
        return (f"With sigma {steps.sigma:g} each pixel becomes a weighted average of its "
                f"neighbours up to about {reach} pixel{'s' if reach > 1 else ''} away: noise "
                "fades, and edges soften into ramps that thinning will make one pixel wide "
                "again.")
    if step == "gradient":
        above = 100 * share_below(steps.magnitude, steps.low)
        return (f"The strongest gradient after the blur is {steps.strongest:.3f}. Edges are "
                f"ridges of |G| a few pixels wide; {100 - above:.1f}% of the pixels reach the "
                f"low threshold {steps.low:.3f}, far more than any edge needs.")
    if step == "thin":
        share = 100 * c["thinned"] / max(c["changing"], 1)
        return (f"Thinning keeps {c['thinned']:,} of the {c['changing']:,} pixels that change "
                f"({share:.1f}%): only the crest of each ridge of |G| survives, one pixel "
                "wide. Faint crests of noise survive too; the thresholds deal with them.")
    rest = c["thinned"] - c["strong"] - c["weak"]
    if step == "threshold" or not revealed:
        return (f"{c['strong']:,} strong pixels (|G| ≥ {steps.high:.3f}) are edges for sure; "
                f"{c['weak']:,} weak pixels ({steps.low:.3f} ≤ |G| < {steps.high:.3f}) wait "
                f"for hysteresis; the other {rest:,} thinned pixels are dropped as noise.")
    return (f"Hysteresis kept {c['kept']:,} of the {c['weak']:,} weak pixels, those linked "
            f"to a strong pixel through other weak ones, and dropped {c['dropped']:,}. "
            f"Canny's result: {c['edges']:,} edge pixels, "
            f"{100 * c['edges'] / c['pixels']:.1f}% of the image.")


def canny_picture(steps: CannySteps, step: str, *, reveal: bool = True) -> np.ndarray:
    """What Canny's ``step`` has made, as a picture.

    ``"smooth"``: the blurred gray image; ``"gradient"``: its Sobel magnitude;
    ``"thin"``: the magnitude of the pixels thinning keeps; ``"threshold"``: strong
    pixels white, weak ones amber; ``"hysteresis"``: strong white, weak pixels kept
    green and dropped orange (with ``reveal=False``, as ``"threshold"``).

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> s = canny_steps(np.eye(8), sigma=1.0)
    >>> [canny_picture(s, step).shape for step in CANNY_STEPS][-1]
    (8, 8, 3)
    """
    if step not in CANNY_STEPS:
        raise ValueError(f"step must be one of {', '.join(CANNY_STEPS)}, got {step!r}")
    h, w = steps.smoothed.shape
    if step == "smooth":
        return np.repeat(np.clip(steps.smoothed, 0, 1)[..., None], 3, axis=2).astype(np.float32)
    scale = display_scale(steps.magnitude)
    if step in ("gradient", "thin"):
        m = steps.magnitude if step == "gradient" else np.where(steps.thinned, steps.magnitude, 0)
        return np.repeat(magnitude_picture(m, scale=scale), 3, axis=2)
    out = np.zeros((h, w, 3), np.float32)
    weak = steps.weak
    if step == "hysteresis" and reveal:
        out[weak & steps.edges] = KEPT_COLOUR
        out[weak & ~steps.edges] = DROPPED_COLOUR
    else:
        out[weak] = WEAK_COLOUR
    out[steps.strong] = STRONG_COLOUR
    return out


def mark_pixel(picture: np.ndarray, row: int, col: int, *, radius: int = 6,
               colour=MARK_COLOUR) -> np.ndarray:
    """A copy of an ``(H, W, 3)`` picture with a ring of ``radius`` pixels drawn around
    one pixel (the pixel itself left visible).

    Examples
    --------
    >>> p = mark_pixel(np.zeros((9, 9, 3), np.float32), 4, 4, radius=3)
    >>> p[4, 4].tolist(), p[1, 4].round(2).tolist()
    ([0.0, 0.0, 0.0], [0.34, 0.71, 0.91])
    """
    out = np.array(picture, np.float32, copy=True)
    rr, cc = draw.circle_perimeter(int(row), int(col), int(radius), shape=out.shape[:2])
    out[rr, cc] = np.asarray(colour, np.float32)
    return out


def crop(picture: np.ndarray, row: int, col: int, *, radius: int) -> np.ndarray:
    """The ``(2 radius + 1)``-pixel square of a picture centred on one pixel, padded with
    black where it passes the image border, so the pixel is always at the centre.

    Examples
    --------
    >>> crop(np.ones((5, 5, 3)), 0, 0, radius=1)[..., 0].tolist()
    [[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]
    """
    picture = np.asarray(picture)
    pad = [(radius, radius), (radius, radius)] + [(0, 0)] * (picture.ndim - 2)
    padded = np.pad(picture, pad)
    return padded[row:row + 2 * radius + 1, col:col + 2 * radius + 1]


def close_up(picture: np.ndarray, row: int, col: int, *, radius: int = 12,
             zoom: int = 12, colour=MARK_COLOUR) -> np.ndarray:
    """:func:`crop` enlarged ``zoom`` times (each pixel a square), with a frame drawn
    between the centre pixel and its neighbours, so it is marked without hiding any
    pixel.

    Returns
    -------
    picture : ((2 radius + 1) zoom, (2 radius + 1) zoom, 3) float32 ndarray

    Examples
    --------
    >>> big = close_up(np.zeros((9, 9, 3)), 4, 4, radius=1, zoom=4)
    >>> big.shape, big[4, 4].round(2).tolist(), big[5, 5].tolist()
    ((12, 12, 3), [0.34, 0.71, 0.91], [0.0, 0.0, 0.0])
    """
    small = crop(picture, row, col, radius=radius)
    if small.ndim == 2:
        small = small[..., None]
    if small.shape[2] == 1:
        small = np.repeat(small, 3, axis=2)
    big = np.repeat(np.repeat(small, zoom, axis=0), zoom, axis=1).astype(np.float32)
    lo, hi = radius * zoom, (radius + 1) * zoom - 1
    width = max(1, zoom // 4)
    c = np.asarray(colour, np.float32)
    big[lo:lo + width, lo:hi + 1] = c
    big[hi - width + 1:hi + 1, lo:hi + 1] = c
    big[lo:hi + 1, lo:lo + width] = c
    big[lo:hi + 1, hi - width + 1:hi + 1] = c
    return big


# --------------------------------------------------------------------------- regions


# --------------------------------------------------------------------------- figures


def neighbourhood_figure(gray: np.ndarray, grad: Gradient, row: int, col: int, *,
                         radius: int = 5) -> go.Figure:
    """The pixels around ``(row, col)`` as gray squares, each with an arrow from its
    centre along its gradient (length by magnitude: the longest in the crop is one
    pixel; arrows under a tenth of that are left out), and the 3 x 3 neighbourhood the
    kernels read outlined.

    Examples
    --------
    >>> g = np.zeros((20, 20)); g[:, 10:] = 1
    >>> fig = neighbourhood_figure(g, gradient(g), 10, 10, radius=3)
    >>> fig.data[0].type, fig.data[0].z.shape
    ('heatmap', (7, 7))
    """
    gray = _check_gray(gray)
    patch = crop(gray, row, col, radius=radius)
    gx = crop(grad.gx, row, col, radius=radius)
    gy = crop(grad.gy, row, col, radius=radius)
    size = 2 * radius + 1
    rows, cols = np.mgrid[0:size, 0:size] + np.array([row - radius, col - radius])[:, None, None]
    fig = go.Figure(go.Heatmap(
        z=patch, x=np.arange(col - radius, col + radius + 1),
        y=np.arange(row - radius, row + radius + 1), colorscale="gray", zmin=0, zmax=1,
        showscale=False, customdata=np.stack([gx, gy], -1),
        hovertemplate="row %{y}, column %{x}<br>gray %{z:.3f}<br>G<sub>x</sub> "
                      "%{customdata[0]:.3f}, G<sub>y</sub> %{customdata[1]:.3f}<extra></extra>"))
    magnitude = np.hypot(gx, gy).ravel()
    longest = float(magnitude.max(initial=0.0))
    shown = magnitude >= 0.1 * longest if longest > 0 else np.zeros(magnitude.shape, bool)
    if shown.any():
        length = 0.95 / longest
        r0, c0 = rows.ravel()[shown], cols.ravel()[shown]
        r1, c1 = r0 + gy.ravel()[shown] * length, c0 + gx.ravel()[shown] * length
        gap = np.full(r0.shape, np.nan)
        fig.add_scatter(x=np.stack([c0, c1, gap], 1).ravel(), y=np.stack([r0, r1, gap], 1).ravel(),
                        mode="lines", line=dict(color="#e69f00", width=3), hoverinfo="skip",
                        showlegend=False, connectgaps=False)
        angles = np.degrees(np.arctan2(gx.ravel()[shown], -gy.ravel()[shown]))
        fig.add_scatter(x=c1, y=r1, mode="markers", hoverinfo="skip", showlegend=False,
                        marker=dict(symbol="triangle-up", size=9, angle=angles,
                                    color="#e69f00"))
    fig.add_shape(type="rect", x0=col - 1.5, x1=col + 1.5, y0=row - 1.5, y1=row + 1.5,
                  line=dict(color=viz.hex_colour(MARK_COLOUR), width=4))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", title="row", showgrid=False,
                     zeroline=False)
    fig.update_xaxes(title="column", side="top", showgrid=False, zeroline=False)
    fig.update_layout(height=430, margin=dict(l=10, r=10, t=40, b=10),
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig


def magnitude_histogram_figure(steps: CannySteps, *, bins: int = 60) -> go.Figure:
    """How many thinned pixels have each gradient magnitude, with the low and high
    thresholds as lines: weak pixels between them, strong ones right of ``high``.

    Examples
    --------
    >>> s = canny_steps(np.eye(12), sigma=1.0)
    >>> fig = magnitude_histogram_figure(s)
    >>> fig.data[0].type, len(fig.layout.shapes)
    ('bar', 2)
    """
    m = steps.magnitude[steps.thinned]
    top = max(steps.strongest, 1e-12)
    edges = np.linspace(0, top, bins + 1)
    counts, _ = np.histogram(m, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    colours = np.where(centres >= steps.high, viz.hex_colour(STRONG_COLOUR),
                       np.where(centres >= steps.low, viz.hex_colour(WEAK_COLOUR), "#7f7f7f"))
    fig = go.Figure(go.Bar(x=centres, y=counts, width=edges[1] - edges[0], marker_color=colours,
                           marker_line_width=0, name="thinned pixels",
                           hovertemplate="|G| %{x:.3f}: %{y} pixels<extra></extra>"))
    for value, name in ((steps.low, "low"), (steps.high, "high")):
        fig.add_vline(x=value, line_color="#d62728", line_width=2,
                      annotation_text=f"{name} {value:.3f}", annotation_position="top")
    fig.update_layout(xaxis_title="gradient magnitude |G| of the thinned pixels",
                      yaxis_title="pixels (log)", yaxis_type="log", bargap=0, height=260,
                      margin=dict(l=10, r=10, t=30, b=10), plot_bgcolor="#3a3a3a")
    return fig
