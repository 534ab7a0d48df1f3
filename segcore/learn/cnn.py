"""The numbers of the lesson "CNNs for segmentation": what a convolution costs against
a fully connected layer, what pooling does to sizes, the shipped U-Net's feature maps,
four ways to bring a pooled map back to its size (and the checkerboard a transposed
convolution can leave), and the receptive field of stacked dilated convolutions.

Each operation works on one channel, a 2-D float array ``(H, W)``, in numpy, and equals
its ``torch.nn.functional`` counterpart (the tests check every one): :func:`max_pool`
is ``F.max_pool2d(..., return_indices=True)``, :func:`max_unpool` is
``F.max_unpool2d``, :func:`upsample_nearest` and :func:`upsample_bilinear` are
``F.interpolate`` (``align_corners=False``), :func:`conv_transpose` is
``F.conv_transpose2d`` and :func:`conv2d` is ``F.conv2d`` (a correlation: the kernel is
laid on the image as it is printed). Torch itself appears where the lesson asks it to
check a number: parameter counts (:func:`torch_parameters`), the U-Net's feature maps
(:func:`unet_features`) and the gradient that measures a receptive field
(:func:`gradient_map`).

>>> x = np.arange(16.0).reshape(4, 4)
>>> pooled, indices = max_pool(x)
>>> pooled.tolist()
[[5.0, 7.0], [13.0, 15.0]]
>>> max_unpool(pooled, indices, x.shape)[1].tolist()
[0.0, 5.0, 0.0, 7.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, sequential

__all__ = [
    "conv_parameters", "dense_parameters", "torch_parameters", "memory_text",
    "pooled_sizes", "Features", "unet_features", "most_varied_channel", "feature_picture",
    "max_pool", "max_unpool", "upsample_nearest", "upsample_bilinear", "bilinear_at",
    "conv_transpose", "conv2d", "doubling_padding", "UPSAMPLINGS", "upsample",
    "resize_then_conv", "round_trip", "rms", "overlap_count", "overlap_per_axis",
    "phase_means", "checkerboard", "overlap_figure",
    "SCHEDULES", "dilation_rates", "receptive_field", "support", "gradient_map",
    "field_extent", "corner_paths", "field_picture", "dilation_figure",
]

#: The ways :func:`upsample` doubles a map, in the order the lesson shows them.
UPSAMPLINGS = ("nearest", "bilinear", "max-unpooling", "transposed")
#: Dilation schedules for stacked 3 x 3 convolutions: every rate 1, every rate 2, or
#: rates doubling layer by layer (1, 2, 4, ...), as DeepLab's multi-grid and the
#: context module of Yu and Koltun (2016) stack them.
SCHEDULES = ("plain", "rate 2", "doubling")

_VIRIDIS = np.array([hex_to_rgb(c) for c in sequential.Viridis], np.float64) / 255
_FIELD_COLOUR = np.array((0.9, 0.6, 0.0))  # Okabe-Ito orange
_SQUARE_COLOUR = np.array((0.34, 0.71, 0.91))  # Okabe-Ito sky blue


def _plane(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be one channel, shape (H, W); got shape {x.shape}")
    return x


def _positive(**values) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")


# --------------------------------------------------------------------------- 1. parameters


def conv_parameters(in_channels: int, out_channels: int, kernel: int, *,
                    bias: bool = True) -> int:
    """Learned numbers of a ``kernel x kernel`` convolution: one kernel per input and
    output channel pair, plus one bias per output channel. The image size does not
    appear: the same kernels slide over every position.

    Examples
    --------
    >>> conv_parameters(3, 16, 3)  # 16 * (3 * 9 + 1)
    448
    """
    _positive(in_channels=in_channels, out_channels=out_channels, kernel=kernel)
    return out_channels * (in_channels * kernel * kernel + int(bias))


def dense_parameters(height: int, width: int, in_channels: int, out_channels: int, *,
                     bias: bool = True) -> int:
    """Learned numbers of a fully connected layer from an ``(height, width,
    in_channels)`` input to an output of the same height and width with
    ``out_channels``: one weight for every (input value, output value) pair, plus one
    bias per output value.

    Examples
    --------
    >>> dense_parameters(10, 10, 3, 16)  # 300 * 1600 + 1600
    481600
    """
    _positive(height=height, width=width, in_channels=in_channels, out_channels=out_channels)
    n_in, n_out = height * width * in_channels, height * width * out_channels
    return n_in * n_out + n_out * int(bias)


def torch_parameters(height: int, width: int, in_channels: int, out_channels: int,
                     kernel: int) -> dict[str, int]:
    """The same two counts from torch: the ``numel`` of ``nn.Conv2d`` and of
    ``nn.Linear``'s parameters. Both are built on torch's ``"meta"`` device, which
    allocates nothing, so a layer of a trillion weights costs no memory.

    Examples
    --------
    >>> torch_parameters(10, 10, 3, 16, 3)
    {'conv': 448, 'dense': 481600}
    """
    from torch import nn

    _positive(height=height, width=width, in_channels=in_channels, out_channels=out_channels,
              kernel=kernel)
    conv = nn.Conv2d(in_channels, out_channels, kernel, device="meta")
    dense = nn.Linear(height * width * in_channels, height * width * out_channels,
                      device="meta")
    return {"conv": sum(p.numel() for p in conv.parameters()),
            "dense": sum(p.numel() for p in dense.parameters())}


def memory_text(parameters: int, *, bytes_per: int = 4) -> str:
    """The memory ``parameters`` float32 numbers take, in words (powers of 1000).

    Examples
    --------
    >>> memory_text(448), memory_text(3_888_000_000)
    ('1.8 kB', '15.6 GB')
    """
    size = float(parameters * bytes_per)
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- 2. encoder


def pooled_sizes(size: int, depth: int) -> list[int]:
    """A side after each of ``depth`` 2 x 2 max-pools (each halves it, rounding down),
    starting with the side itself.

    Examples
    --------
    >>> pooled_sizes(107, 4)
    [107, 53, 26, 13, 6]
    """
    _positive(size=size)
    sizes = [int(size)]
    for _ in range(depth):
        sizes.append(sizes[-1] // 2)
    return sizes


@dataclass(frozen=True)
class Features:
    """A U-Net's feature maps for one image, as numpy arrays (read-only).

    Attributes
    ----------
    model : str
    input_shape : (int, int)
        Height and width of the image as the network takes it (after the card's
        ``max_side`` resize), before padding.
    padded_shape : (int, int)
        Padded to a multiple of ``2 ** depth`` (bottom and right), as the network needs.
    encoder : list of (C, h, w) float32 ndarray
        Level ``0`` (full size) down to the bottleneck, cropped to the image.
    decoder : list of (C, h, w) float32 ndarray
        From just above the bottleneck back to full size, cropped to the image.
    probabilities : (H, W, K) float32 ndarray
        The softmax the decoder ends in, at ``input_shape``.
    classes : tuple of str

    Examples
    --------
    >>> from segcore.nn.infer import load_model
    >>> f = unet_features(np.zeros((40, 50, 1), np.float32), *load_model("membrane"))
    >>> f.padded_shape, [m.shape[1:] for m in f.encoder]
    ((48, 64), [(40, 50), (20, 25), (10, 13), (5, 7), (3, 4)])
    """

    model: str
    input_shape: tuple[int, int]
    padded_shape: tuple[int, int]
    encoder: list
    decoder: list
    probabilities: np.ndarray
    classes: tuple

    @property
    def depth(self) -> int:
        return len(self.decoder)


def unet_features(image: np.ndarray, net, card, *, model: str = "") -> Features:
    """Run a shipped U-Net on ``image`` and keep every level's feature maps.

    The image is fed as :func:`segcore.nn.infer.predict` feeds it (channels adapted,
    resized to the card's ``max_side``, normalised with the card's mean and std,
    reflect-padded to a multiple of ``2 ** depth``), in one piece, under
    ``torch.no_grad``; so keep it small. The padding goes at the bottom and right, so
    that every level crops back to the image by keeping its top-left corner.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    net : segcore.nn.UNet
    card : segcore.nn.infer.ModelCard

    Returns
    -------
    Features

    Examples
    --------
    >>> from segcore.nn.infer import load_model
    >>> f = unet_features(np.zeros((64, 48, 3), np.float32), *load_model("horse"))
    >>> f.input_shape, f.encoder[-1].shape, f.probabilities.shape
    ((160, 120), (256, 10, 8), (160, 120, 2))
    """
    import torch
    from torch.nn import functional as F

    from segcore.nn.infer import adapt_channels, image_tensor, normalise, working_scale

    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W, C), got {image.shape}")
    img = adapt_channels(np.asarray(image, np.float32), card.config.in_channels)
    x = image_tensor(img)[None]
    height, width = img.shape[:2]
    x = normalise(working_scale(x, card), card)
    h, w = x.shape[-2:]
    multiple = 2 ** card.config.depth
    pad_h, pad_w = -h % multiple, -w % multiple
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    with torch.no_grad():
        scores, maps = net(x, return_features=True)
        probs = torch.softmax(scores, dim=1)[0, :, :h, :w].permute(1, 2, 0)

    def cropped(level_map):
        level = round(math.log2(x.shape[-1] / level_map.shape[-1]))
        array = level_map[0, :, :-(-h // 2**level), :-(-w // 2**level)].numpy().copy()
        array.flags.writeable = False
        return array

    probabilities = probs.numpy().copy()
    probabilities.flags.writeable = False
    return Features(model=model, input_shape=(int(h), int(w)),
                    padded_shape=(int(h + pad_h), int(w + pad_w)),
                    encoder=[cropped(m) for m in maps["encoder"]],
                    decoder=[cropped(m) for m in maps["decoder"]],
                    probabilities=probabilities, classes=tuple(card.classes))


def most_varied_channel(maps: np.ndarray) -> int:
    """The channel of ``(C, h, w)`` feature maps whose values vary most (the largest
    standard deviation): the one with the most to show.

    Examples
    --------
    >>> maps = np.zeros((3, 4, 4)); maps[2, :2] = 1
    >>> most_varied_channel(maps)
    2
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (C, h, w), got {maps.shape}")
    return int(np.argmax(maps.reshape(len(maps), -1).std(axis=1)))


def feature_picture(values: np.ndarray, *, vmax: float | None = None) -> np.ndarray:
    """A feature map as colours (viridis: dark blue at 0 or below, yellow at ``vmax``,
    default the map's largest value). The U-Net's maps come after a ReLU, so they are
    never negative.

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> np.round(feature_picture(np.array([[0.0, 2.0]]))[0].astype(float), 2).tolist()
    [[0.27, 0.0, 0.33], [0.99, 0.91, 0.15]]
    """
    values = _plane(values, "values")
    top = float(values.max(initial=0.0)) if vmax is None else float(vmax)
    t = np.clip(values / top, 0, 1) if top > 0 else np.zeros_like(values)
    position = t * (len(_VIRIDIS) - 1)
    low = np.minimum(position.astype(int), len(_VIRIDIS) - 2)
    frac = (position - low)[..., None]
    return ((1 - frac) * _VIRIDIS[low] + frac * _VIRIDIS[low + 1]).astype(np.float32)


# --------------------------------------------------------------------------- 3. upsampling


def max_pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2 x 2 max-pooling with stride 2 (an odd last row or column is dropped), and
    where each maximum was: its flat index ``row * W + col`` in ``x``, the first one
    in reading order when several are equal (as ``F.max_pool2d`` reports them).

    Examples
    --------
    >>> max_pool(np.array([[1.0, 3.0], [3.0, 0.0]]))[1].tolist()
    [[1]]
    """
    x = _plane(x)
    h, w = x.shape[0] // 2, x.shape[1] // 2
    if h == 0 or w == 0:
        raise ValueError(f"max-pooling needs at least 2 x 2 values, got shape {x.shape}")
    blocks = x[:2 * h, :2 * w].reshape(h, 2, w, 2).transpose(0, 2, 1, 3).reshape(h, w, 4)
    where = blocks.argmax(axis=2)
    rows = 2 * np.arange(h)[:, None] + where // 2
    cols = 2 * np.arange(w)[None, :] + where % 2
    return np.take_along_axis(blocks, where[..., None], 2)[..., 0], rows * x.shape[1] + cols


def max_unpool(pooled: np.ndarray, indices: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Undo :func:`max_pool` as far as it can be undone: every maximum goes back to
    where it came from, and the three other pixels of its 2 x 2 block become 0.

    Examples
    --------
    >>> p, i = max_pool(np.array([[1.0, 3.0], [2.0, 0.0]]))
    >>> max_unpool(p, i, (2, 2)).tolist()
    [[0.0, 3.0], [0.0, 0.0]]
    """
    pooled = _plane(pooled, "pooled")
    out = np.zeros(int(shape[0]) * int(shape[1]))
    out[np.asarray(indices).ravel()] = pooled.ravel()
    return out.reshape(shape)


def upsample_nearest(x: np.ndarray, factor: int = 2) -> np.ndarray:
    """Every value copied into a ``factor x factor`` block.

    Examples
    --------
    >>> upsample_nearest(np.array([[1.0, 2.0]])).tolist()
    [[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]
    """
    _positive(factor=factor)
    return np.repeat(np.repeat(_plane(x), factor, axis=0), factor, axis=1)


def _bilinear_axis(n_in: int, n_out: int):
    # PyTorch's rule with align_corners=False: pixel centres line up, and a source
    # position before the first centre is clamped to it.
    src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
    i0 = np.minimum(src.astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, src - i0


def upsample_bilinear(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resizing to ``size = (height, width)``: each new pixel mixes the four
    old ones around its centre, weighted by closeness (``align_corners=False``).

    Examples
    --------
    >>> upsample_bilinear(np.array([[0.0, 4.0]]), (1, 4)).tolist()
    [[0.0, 1.0, 3.0, 4.0]]
    """
    x = _plane(x)
    r0, r1, fr = _bilinear_axis(x.shape[0], int(size[0]))
    c0, c1, fc = _bilinear_axis(x.shape[1], int(size[1]))
    rows = x[r0] * (1 - fr)[:, None] + x[r1] * fr[:, None]
    return rows[:, c0] * (1 - fc) + rows[:, c1] * fc


def bilinear_at(x: np.ndarray, row: int, col: int) -> tuple[list[tuple[float, float]], float]:
    """The sum behind pixel ``(2 row + 1, 2 col + 1)`` of ``x`` doubled bilinearly:
    its four ``(weight, value)`` terms (weights 9/16, 3/16, 3/16, 1/16 for the old
    pixels ``(row, col)``, ``(row, col + 1)``, ``(row + 1, col)``, ``(row + 1, col + 1)``)
    and the value they add up to. ``row`` and ``col`` must leave a row and a column
    after them.

    Examples
    --------
    >>> terms, value = bilinear_at(np.array([[0.0, 16.0], [16.0, 32.0]]), 0, 0)
    >>> [w for w, _ in terms], value
    ([0.5625, 0.1875, 0.1875, 0.0625], 8.0)
    """
    x = _plane(x)
    if not (0 <= row < x.shape[0] - 1 and 0 <= col < x.shape[1] - 1):
        raise ValueError(f"pixel ({row}, {col}) needs a row and a column after it in a "
                         f"{x.shape} map")
    terms = [(9 / 16, x[row, col]), (3 / 16, x[row, col + 1]), (3 / 16, x[row + 1, col]),
             (1 / 16, x[row + 1, col + 1])]
    terms = [(float(w), float(v)) for w, v in terms]
    return terms, sum(w * v for w, v in terms)


def conv_transpose(x: np.ndarray, weight: np.ndarray, *, stride: int, padding: int = 0,
                   output_padding: int = 0) -> np.ndarray:
    """Transposed convolution of one channel: every input value stamps the kernel,
    scaled by itself, onto the output, ``stride`` pixels apart from its neighbour's
    stamp; where stamps overlap they add up. ``padding`` is then cut from every side
    and ``output_padding`` rows and columns added at the bottom and right.

    Output side: ``(n - 1) * stride - 2 * padding + k + output_padding``.

    Examples
    --------
    >>> conv_transpose(np.ones((1, 2)), np.ones((1, 3)), stride=2).tolist()
    [[1.0, 1.0, 2.0, 1.0, 1.0]]
    """
    x, weight = _plane(x), _plane(weight, "weight")
    _positive(stride=stride)
    (h, w), (kh, kw) = x.shape, weight.shape
    full = np.zeros(((h - 1) * stride + kh + output_padding,
                     (w - 1) * stride + kw + output_padding))
    for a in range(kh):
        for b in range(kw):
            full[a:a + (h - 1) * stride + 1:stride, b:b + (w - 1) * stride + 1:stride] += \
                weight[a, b] * x
    out_h = (h - 1) * stride - 2 * padding + kh + output_padding
    out_w = (w - 1) * stride - 2 * padding + kw + output_padding
    if out_h < 1 or out_w < 1:
        raise ValueError(f"padding {padding} leaves no output")
    return full[padding:padding + out_h, padding:padding + out_w]


def conv2d(x: np.ndarray, weight: np.ndarray, *, dilation: int = 1,
           padding: int = 0) -> np.ndarray:
    """Convolution of one channel as CNNs compute it (a correlation: the kernel is not
    flipped), with zeros around the image: ``y[i, j] = sum_ab w[a, b] x[i + a d - p,
    j + b d - p]``. A ``dilation`` ``d`` spreads the kernel's taps ``d`` pixels apart
    (atrous convolution): a 3 x 3 kernel then spans ``2 d + 1`` pixels with 9 weights.

    Examples
    --------
    >>> x = np.arange(25.0).reshape(5, 5)
    >>> conv2d(x, np.ones((3, 3)), dilation=2).tolist()  # the 9 pixels of even position
    [[108.0]]
    """
    x, weight = _plane(x), _plane(weight, "weight")
    _positive(dilation=dilation)
    kh, kw = weight.shape
    xp = np.pad(x, padding)
    out_h = xp.shape[0] - dilation * (kh - 1)
    out_w = xp.shape[1] - dilation * (kw - 1)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"a {kh} x {kw} kernel at dilation {dilation} does not fit a map of "
                         f"shape {x.shape} with padding {padding}")
    out = np.zeros((out_h, out_w))
    for a in range(kh):
        for b in range(kw):
            out += weight[a, b] * xp[a * dilation:a * dilation + out_h,
                                     b * dilation:b * dilation + out_w]
    return out


def doubling_padding(kernel: int) -> tuple[int, int]:
    """``(padding, output_padding)`` that make a stride-2 transposed convolution with a
    ``kernel``-wide kernel double a map's size exactly.

    Examples
    --------
    >>> [doubling_padding(k) for k in (2, 3, 4)]
    [(0, 0), (1, 1), (1, 0)]
    """
    _positive(kernel=kernel)
    padding = (kernel - 1) // 2
    return padding, 2 + 2 * padding - kernel


def upsample(x: np.ndarray, method: str, *, indices: np.ndarray | None = None,
             kernel: int = 3) -> np.ndarray:
    """Double a map's height and width with one of :data:`UPSAMPLINGS`.

    ``"max-unpooling"`` needs the ``indices`` of the :func:`max_pool` that made ``x``.
    ``"transposed"`` is a stride-2 transposed convolution with a ``kernel x kernel``
    kernel of equal weights, scaled so that on average one input value lands on each
    output pixel (``4 / kernel**2`` each): a trained network learns its weights, but
    equal ones show the overlap pattern alone.

    Examples
    --------
    >>> (upsample(np.ones((3, 3)), "transposed", kernel=3)[2:4, 2:4] * 9 / 4).tolist()
    [[1.0, 2.0], [2.0, 4.0]]
    """
    x = _plane(x)
    if method == "nearest":
        return upsample_nearest(x)
    if method == "bilinear":
        return upsample_bilinear(x, (2 * x.shape[0], 2 * x.shape[1]))
    if method == "max-unpooling":
        if indices is None:
            raise ValueError("max-unpooling needs the indices of the max-pooling")
        return max_unpool(x, indices, (2 * x.shape[0], 2 * x.shape[1]))
    if method == "transposed":
        padding, extra = doubling_padding(kernel)
        return conv_transpose(x, np.full((kernel, kernel), 4 / kernel**2), stride=2,
                              padding=padding, output_padding=extra)
    raise ValueError(f"method must be one of {', '.join(UPSAMPLINGS)}, got {method!r}")


def resize_then_conv(x: np.ndarray, kernel: int = 3) -> np.ndarray:
    """Double a map the other way: nearest-neighbour resize, then an ordinary
    (stride 1) ``kernel x kernel`` convolution of equal weights, the border repeated
    so every output pixel averages ``kernel**2`` values. ``kernel`` is odd.

    Examples
    --------
    >>> resize_then_conv(np.ones((3, 3))).round(12).tolist() == np.ones((6, 6)).tolist()
    True
    """
    _positive(kernel=kernel)
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd (centred on its pixel), got {kernel}")
    big = np.pad(upsample_nearest(x), kernel // 2, mode="edge")
    return conv2d(big, np.full((kernel, kernel), 1 / kernel**2))


def round_trip(x: np.ndarray, *, kernel: int = 3) -> dict[str, np.ndarray]:
    """Max-pool a map (as a U-Net's encoder does) and bring it back with every one of
    :data:`UPSAMPLINGS`: ``{"before": x (cropped to even sides), "pooled": ...,
    "nearest": ..., ...}``, all but ``"pooled"`` at the size of ``"before"``.

    Examples
    --------
    >>> out = round_trip(np.arange(30.0).reshape(5, 6))
    >>> out["before"].shape, out["pooled"].shape, out["transposed"].shape
    ((4, 6), (2, 3), (4, 6))
    """
    x = _plane(x)
    pooled, indices = max_pool(x)
    out = {"before": x[:2 * pooled.shape[0], :2 * pooled.shape[1]], "pooled": pooled}
    for method in UPSAMPLINGS:
        out[method] = upsample(pooled, method, indices=indices, kernel=kernel)
    return out


def rms(a: np.ndarray, b: np.ndarray) -> float:
    """Root mean square difference of two arrays of one shape.

    Examples
    --------
    >>> rms(np.zeros(4), np.array([1.0, -1.0, 1.0, -1.0]))
    1.0
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    return float(np.sqrt(np.mean((a - b) ** 2)))


def overlap_count(kernel: int, stride: int, *, size: int = 6) -> np.ndarray:
    """How many input pixels a transposed convolution stamps onto each output pixel:
    the transposed convolution of a ``size x size`` input of ones with a kernel of
    ones. Away from the border it repeats with period ``stride``, and it is flat only
    when ``stride`` divides ``kernel``.

    Examples
    --------
    >>> overlap_count(3, 2, size=3).astype(int).tolist()[2]
    [2, 2, 4, 2, 4, 2, 2]
    """
    _positive(kernel=kernel, stride=stride, size=size)
    return conv_transpose(np.ones((size, size)), np.ones((kernel, kernel)), stride=stride)


def overlap_per_axis(kernel: int, stride: int) -> tuple[int, int]:
    """The fewest and the most stamps one output row (or column) gets away from the
    border: ``floor(k / s)`` and ``ceil(k / s)``, equal when ``s`` divides ``k``.

    Examples
    --------
    >>> overlap_per_axis(3, 2), overlap_per_axis(4, 2)
    ((1, 2), (2, 2))
    """
    _positive(kernel=kernel, stride=stride)
    return kernel // stride, -(-kernel // stride)


def phase_means(y: np.ndarray, *, border: int = 2) -> np.ndarray:
    """The mean of a doubled map over each of the four pixel phases, ``(row % 2,
    col % 2)``, leaving ``border`` pixels (rounded up to even) at every side out: four
    equal numbers when no 2-pixel pattern is laid over the picture.

    Examples
    --------
    >>> phase_means(overlap_count(3, 2, size=8)).tolist()
    [[4.0, 2.0], [2.0, 1.0]]
    """
    y = _plane(y, "y")
    b = border + border % 2
    inner = y[b:y.shape[0] - b, b:y.shape[1] - b]
    if min(inner.shape) < 2:
        inner = y
    return np.array([[inner[r::2, c::2].mean() for c in (0, 1)] for r in (0, 1)])


def checkerboard(y: np.ndarray, *, border: int = 2) -> float:
    """How strongly a 2-pixel pattern shows in a doubled map: the spread of its
    :func:`phase_means` over their mean (0: none).

    Examples
    --------
    >>> checkerboard(overlap_count(3, 2, size=8)), checkerboard(overlap_count(4, 2, size=8))
    (1.3333333333333333, 0.0)
    """
    means = phase_means(y, border=border)
    mean = float(np.abs(means).mean())
    return float((means.max() - means.min()) / mean) if mean > 0 else 0.0


def overlap_figure(counts: np.ndarray) -> go.Figure:
    """The overlap counts as a grid of numbered squares (brighter: more stamps).

    Examples
    --------
    >>> overlap_figure(overlap_count(3, 2, size=3)).data[0].z.shape
    (7, 7)
    """
    counts = _plane(counts, "counts")
    fig = go.Figure(go.Heatmap(
        z=counts, text=counts.astype(int), texttemplate="%{text}", colorscale="Viridis",
        zmin=0, zmax=max(float(counts.max()), 1.0), showscale=False,
        hovertemplate="row %{y}, column %{x}: %{z:.0f} stamps<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False,
                     showgrid=False, zeroline=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_layout(height=360, margin=dict(l=5, r=5, t=5, b=5))
    return fig


# --------------------------------------------------------------------------- 4. dilation


def dilation_rates(schedule: str, layers: int) -> tuple[int, ...]:
    """The dilation of each of ``layers`` stacked convolutions, first layer first,
    for one of :data:`SCHEDULES`.

    Examples
    --------
    >>> dilation_rates("doubling", 4), dilation_rates("rate 2", 2)
    ((1, 2, 4, 8), (2, 2))
    """
    _positive(layers=layers)
    if schedule == "plain":
        return (1,) * layers
    if schedule == "rate 2":
        return (2,) * layers
    if schedule == "doubling":
        return tuple(2**i for i in range(layers))
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")


def receptive_field(layers) -> int:
    """The side of the square of input pixels one output pixel depends on, for layers
    ``(kernel, stride, dilation)`` applied in order:
    ``r = 1 + sum_l (k_l - 1) d_l j_l``, where ``j_l`` is the product of the strides
    before layer ``l`` (how far apart that layer's input pixels lie in the image).

    Examples
    --------
    >>> receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)])  # 1 + 2 (1 + 2 + 4)
    15
    >>> receptive_field([(3, 1, 1), (2, 2, 1), (3, 1, 1)])  # conv, 2 x 2 pool, conv
    8
    """
    field, jump = 1, 1
    for kernel, stride, dilation in layers:
        _positive(kernel=kernel, stride=stride, dilation=dilation)
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return field


def support(kernel: int, dilations) -> np.ndarray:
    """The offsets (along one axis) of the input pixels that reach the output pixel
    through stacked stride-1 convolutions with these dilations: every sum of one tap
    offset per layer. With every rate 2 they are all even: the odd ones are holes.

    Examples
    --------
    >>> support(3, (2, 2)).tolist()
    [-4, -2, 0, 2, 4]
    """
    _positive(kernel=kernel)
    taps = np.arange(kernel) - (kernel - 1) // 2
    offsets = np.zeros(1, int)
    for d in dilations:
        _positive(dilation=d)
        offsets = np.unique((offsets[:, None] + d * taps[None, :]).ravel())
    return offsets


def gradient_map(gray: np.ndarray, row: int, col: int, *, kernel: int,
                 dilations) -> np.ndarray:
    """Measure a receptive field with torch's autograd: stack ``F.conv2d`` layers with
    these dilations (weights all 1, zero padding that keeps the size), run them on
    ``gray``, and take the gradient of output pixel ``(row, col)`` with respect to every
    input pixel. It is non-zero exactly where an input pixel reaches that output, and
    counts the paths it reaches it by.

    Returns
    -------
    (H, W) float64 ndarray

    Examples
    --------
    >>> g = gradient_map(np.zeros((9, 9)), 4, 4, kernel=3, dilations=(1, 2))
    >>> (g[4] > 0).astype(int).tolist()
    [0, 1, 1, 1, 1, 1, 1, 1, 0]
    """
    import torch
    from torch.nn import functional as F

    gray = _plane(gray, "gray")
    _positive(kernel=kernel)
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd (centred on its pixel), got {kernel}")
    if not (0 <= row < gray.shape[0] and 0 <= col < gray.shape[1]):
        raise ValueError(f"pixel ({row}, {col}) is outside a {gray.shape} image")
    x = torch.tensor(gray, dtype=torch.float64)[None, None].requires_grad_(True)
    weight = torch.ones(1, 1, kernel, kernel, dtype=torch.float64)
    y = x
    for d in dilations:
        y = F.conv2d(y, weight, dilation=int(d), padding=int(d) * (kernel // 2))
    y[0, 0, row, col].backward()
    return x.grad[0, 0].numpy()


def field_extent(grad: np.ndarray) -> tuple[int, int]:
    """Height and width of the box around the non-zero entries of a gradient map
    (``(0, 0)`` when there are none).

    Examples
    --------
    >>> field_extent(np.pad(np.ones((3, 5)), 2))
    (3, 5)
    """
    rows, cols = np.nonzero(_plane(grad, "grad"))
    if rows.size == 0:
        return 0, 0
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def corner_paths(grad: np.ndarray) -> float:
    """The gradient at the top-left corner of the box around its non-zero entries: how
    many paths lead from that far pixel to the output (0 when none do).

    Examples
    --------
    >>> corner_paths(gradient_map(np.zeros((9, 9)), 4, 4, kernel=3, dilations=(1, 1)))
    1.0
    """
    grad = _plane(grad, "grad")
    rows, cols = np.nonzero(grad)
    return float(grad[rows.min(), cols.min()]) if rows.size else 0.0


def field_picture(image: np.ndarray, grad: np.ndarray, row: int, col: int, *,
                  margin: int | None = None) -> np.ndarray:
    """The image, dimmed, with the receptive field of pixel ``(row, col)`` drawn on
    it: orange where an input pixel reaches the output (stronger where it reaches it
    by more paths), the box around them outlined in blue, the pixel itself white.
    With ``margin``, only the box and ``margin`` pixels around it (as far as the image
    goes).

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> g = gradient_map(np.zeros((9, 9)), 4, 4, kernel=3, dilations=(2,))
    >>> p = field_picture(np.zeros((9, 9, 1), np.float32), g, 4, 4)
    >>> p.shape, bool(p[4, 6, 0] > p[4, 5, 0])
    ((9, 9, 3), True)
    >>> field_picture(np.zeros((9, 9, 1), np.float32), g, 4, 4, margin=2).shape
    (9, 9, 3)
    """
    from segcore import viz

    grad = _plane(grad, "grad")
    rgb = viz.to_rgb(image).astype(np.float64) * 0.45
    if rgb.shape[:2] != grad.shape:
        raise ValueError(f"image {rgb.shape[:2]} and gradient {grad.shape} differ in size")
    top = float(grad.max(initial=0.0))
    if top > 0:
        strength = np.sqrt(np.clip(grad / top, 0, 1))[..., None]
        reached = (grad > 0)[..., None]
        lit = 0.35 + 0.65 * strength
        rgb = np.where(reached, (1 - lit) * rgb + lit * _FIELD_COLOUR, rgb)
        rows, cols = np.nonzero(grad)
        r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
        # The outline runs just outside the field (inside the image), so it hides none of it.
        h, w = grad.shape
        b0, b1, a0, a1 = max(r0 - 1, 0), min(r1 + 1, h - 1), max(c0 - 1, 0), min(c1 + 1, w - 1)
        for r, c in ((slice(b0, b1 + 1), a0), (slice(b0, b1 + 1), a1),
                     (b0, slice(a0, a1 + 1)), (b1, slice(a0, a1 + 1))):
            outside = ~(grad[r, c] > 0)
            rgb[r, c] = np.where(outside[..., None], _SQUARE_COLOUR, rgb[r, c])
    rgb[row, col] = 1.0
    if margin is not None and top > 0:
        rgb = rgb[max(0, r0 - margin):r1 + margin + 1, max(0, c0 - margin):c1 + margin + 1]
    return rgb.astype(np.float32)


def dilation_figure(kernel: int, dilations) -> go.Figure:
    """Stacked dilated convolutions along one axis, as the lesson draws them: a row of
    pixels per layer (the input at the bottom), the output pixel at the top, and the
    lines from every pixel that reaches it to the taps it reads one layer below.

    Examples
    --------
    >>> fig = dilation_figure(3, (1, 2))
    >>> [int(v) for v in fig.data[-1].x]  # the input row: the pixels that reach the output
    [-3, -2, -1, 0, 1, 2, 3]
    """
    _positive(kernel=kernel)
    dilations = tuple(int(d) for d in dilations)
    half = (receptive_field([(kernel, 1, d) for d in dilations]) - 1) // 2
    taps = np.arange(kernel) - (kernel - 1) // 2
    # From the top down: the output pixel, then what each layer reads below it.
    reached = [np.zeros(1, int)]
    for d in reversed(dilations):
        reached.append(np.unique((reached[-1][:, None] + d * taps[None, :]).ravel()))
    top = len(dilations)
    xs, ys = [], []
    for level, (d, above) in enumerate(zip(reversed(dilations), reached)):
        for p in above:
            for t in taps:
                xs += [p, p + d * t, None]
                ys += [top - level, top - level - 1, None]
    grid_x = np.tile(np.arange(-half, half + 1), top + 1)
    grid_y = np.repeat(np.arange(top + 1), 2 * half + 1)
    fig = go.Figure()
    fig.add_scatter(x=grid_x, y=grid_y, mode="markers", hoverinfo="skip", showlegend=False,
                    marker=dict(size=5, color="#c8c8c8"))
    fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                    line=dict(color="#e69f00", width=1))
    for level, above in enumerate(reached):
        fig.add_scatter(x=above, y=[top - level] * len(above), mode="markers",
                        showlegend=False, marker=dict(size=7, color="#0072b2"),
                        hovertemplate="offset %{x}<extra></extra>")
    labels = ["input"] + [f"layer {i + 1}, rate {d}" for i, d in enumerate(dilations)]
    fig.update_yaxes(tickvals=list(range(top + 1)), ticktext=labels, showgrid=False,
                     zeroline=False, range=[-0.5, top + 0.5], automargin=True)
    fig.update_xaxes(title="pixel offset from the output pixel", showgrid=False,
                     zeroline=False)
    fig.update_layout(height=120 + 45 * top, margin=dict(l=110, r=10, t=10, b=10),
                      plot_bgcolor="rgba(0,0,0,0)")
    return fig
