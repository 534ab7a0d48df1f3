"""The numbers of the lesson "The U-Net, opened": the shipped U-Net's feature maps at
every level, the receptive field of one output pixel (in theory, from the architecture,
and in effect, from the gradient), the output with skip connections switched off, the
uncertainty along borders, and the shipped models on images they were not made for.

Everything runs the network the way :func:`segcore.nn.infer.predict` does (the same
channels, normalisation, mirrored context and reflect padding to a multiple of
``2 ** depth``), on an image already at the model's working scale
(:func:`working_copy`); the tests check that :func:`forward` gives ``predict``'s
probabilities.

Conventions, stated once. Levels are counted from ``0`` (full size) to ``depth`` (the
bottleneck, ``1 / 2 ** depth`` of the size); the pages show them from 1. The skip at
level ``l`` carries the encoder's level-``l`` map to the decoder's level ``l``. For a
score, a model's *object* class is :data:`OBJECT_CLASS` (the horse; for the membrane
model the bright inside of a cell) and a truth's objects are its labels ``2..``.

>>> net, card = load_model("membrane")
>>> image = np.random.default_rng(0).random((20, 30, 1)).astype(np.float32)
>>> forward(net, card, image).probabilities.shape
(20, 30, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import hex_to_rgb, sequential
from scipy import ndimage as ndi
from torch.nn import functional as F

from segcore import io as sio
from segcore import metrics, viz
# The padding rules are infer's own (one copy of them): its split of the extra pixels.
from segcore.nn.infer import (ModelCard, _pad_amounts, adapt_channels, image_tensor, load_model,
                              mirror_pad, normalise, working_scale)
from segcore.nn.unet import UNet, UNetConfig

__all__ = [
    # load_model is segcore.nn.infer's, named here for the examples and for notebooks.
    "load_model", "OBJECT_CLASS", "MADE_FOR", "working_copy", "NetworkInput",
    "network_input", "Forward", "forward", "Level", "levels", "level_maps",
    "channel_grid", "cell_index", "likeness", "axis_field", "theoretical_field", "field_width",
    "encoder_field", "gradient_field", "mass_within", "effective_radius", "field_picture",
    "object_mask", "iou", "SKIP_FILLS", "skip_ablation", "entropy", "border_distance",
    "uncertainty_by_distance", "uncertainty_at_borders", "heat_picture", "sure_share",
    "outcome_picture", "border_picture", "likeness_figure", "mass_figure", "ablation_figure",
    "distance_figure", "PLACES", "least_sure", "object_shares",
]

#: The class of each shipped model that stands for "object" when it is scored against a
#: truth's objects: the horse, and for the membrane model the bright inside of a cell.
OBJECT_CLASS = {"membrane": "cell", "horse": "horse"}
#: What each shipped model was trained on, in words.
MADE_FOR = {"membrane": "gray electron-microscopy sections of neurons (ISBI 2012)",
            "horse": "colour photos of horses (Weizmann horses)"}
#: How a switched-off skip is filled (see :meth:`segcore.nn.unet.UNet.forward`).
SKIP_FILLS = ("zeros", "mean")
#: The colour between the channels of a :func:`channel_grid`.
GAP_COLOUR = (0.0, 0.35, 0.55)
#: Colours of the receptive-field picture: the pixel and the theoretical field's outline
#: (white, also the border in :func:`border_picture`).
PIXEL_COLOUR = (1.0, 0.2, 0.2)
FIELD_COLOUR = (1.0, 1.0, 1.0)
#: Plotly's viridis colour scale (a few stops, interpolated between), as RGB in [0, 1].
_VIRIDIS = np.array([hex_to_rgb(c) for c in sequential.Viridis], np.float64) / 255


def working_copy(image: np.ndarray, truth: np.ndarray | None, card: ModelCard
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """The image (and truth) at the scale the model works at: the card's ``max_side``
    on the longer side, resized as :func:`segcore.nn.infer.predict` resizes (bilinear,
    anti-aliased when shrinking); a model without ``max_side`` takes the image as it is.
    ``predict`` then works on the copy pixel for pixel.

    Examples
    --------
    >>> card = load_model("horse")[1]
    >>> working_copy(np.zeros((80, 400, 3), np.float32), None, card)[0].shape
    (32, 160, 3)
    """
    h, w = image.shape[:2]
    if card.max_side is None or max(h, w) == card.max_side:
        return image, truth
    x = working_scale(image_tensor(image)[None], card)
    small = x[0].permute(1, 2, 0).clamp(0, 1).numpy().astype(np.float32)
    return small, (None if truth is None else sio.resize_labels(truth, small.shape[:2]))


def _pad(x: torch.Tensor, card: ModelCard) -> tuple[torch.Tensor, int, int]:
    """``x`` extended as ``predict`` extends it (mirrored context, then reflect padding
    to a multiple of ``2 ** depth``), and where the image starts in it."""
    h, w = x.shape[-2:]
    my, mx = min(card.mirror, h), min(card.mirror, w)
    x = mirror_pad(x, card.mirror)
    ph, pw = x.shape[-2:]
    multiple = 2**card.config.depth
    top, bottom = _pad_amounts(ph, multiple)
    left, right = _pad_amounts(pw, multiple)
    if top or bottom or left or right:
        mode = "reflect" if max(top, bottom) < ph and max(left, right) < pw else "replicate"
        x = F.pad(x, (left, right, top, bottom), mode=mode)
    return x, top + my, left + mx


@dataclass(frozen=True)
class NetworkInput:
    """What the network sees for an image: ``x`` ``(1, C, H', W')`` normalised and
    padded, the image at rows ``top:top + height`` and columns ``left:left + width``;
    ``row_source[i]`` is the image row that row ``i`` of ``x`` copies (``col_source``
    likewise), so a field on ``x`` can be folded back onto the image.

    Examples
    --------
    >>> # too small to reflect 11 rows: predict repeats the edge pixels instead
    >>> inp = network_input(np.zeros((5, 7, 1), np.float32), load_model("membrane")[1])
    >>> inp.height, inp.width, inp.col_source.tolist()
    (5, 7, [0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6])
    """

    x: torch.Tensor
    top: int
    left: int
    height: int
    width: int
    row_source: np.ndarray
    col_source: np.ndarray


def _check_scale(image: np.ndarray, card: ModelCard) -> None:
    if image.ndim != 3:
        raise ValueError(f"image must have shape (H, W, C), got {image.shape}")
    if card.max_side is not None and max(image.shape[:2]) != card.max_side:
        raise ValueError(f"this model works at {card.max_side} pixels on the longer side, got "
                         f"{image.shape[:2]}: make the image with working_copy first")


def network_input(image: np.ndarray, card: ModelCard) -> NetworkInput:
    """The network's input for an image at the model's working scale (see
    :func:`working_copy`), made as :func:`segcore.nn.infer.predict` makes it.

    Examples
    --------
    >>> card = load_model("membrane")[1]
    >>> inp = network_input(np.zeros((20, 30, 1), np.float32), card)
    >>> tuple(inp.x.shape), inp.top, inp.left, inp.row_source[:8].tolist()
    ((1, 1, 32, 32), 6, 1, [6, 5, 4, 3, 2, 1, 0, 1])
    """
    _check_scale(image, card)
    h, w = image.shape[:2]
    img = adapt_channels(np.asarray(image, np.float32), card.config.in_channels)
    x = image_tensor(img)[None]
    x, top, left = _pad(normalise(x, card), card)
    # The same padding applied to the pixels' own coordinates says where each comes from.
    rows = torch.arange(h, dtype=torch.float64).view(1, 1, h, 1).expand(1, 1, h, w)
    cols = torch.arange(w, dtype=torch.float64).view(1, 1, 1, w).expand(1, 1, h, w)
    row_source = _pad(rows.contiguous(), card)[0][0, 0, :, left].round().long().numpy()
    col_source = _pad(cols.contiguous(), card)[0][0, 0, top, :].round().long().numpy()
    return NetworkInput(x=x, top=top, left=left, height=h, width=w, row_source=row_source,
                        col_source=col_source)


@dataclass(frozen=True)
class Forward:
    """One pass of the network over an image: ``probabilities`` ``(H, W, K)``, and the
    feature maps ``encoder`` (levels ``0..depth``) and ``decoder`` (levels
    ``0..depth - 1``, indexed by level), each ``(C, h, w) float32`` cut to the image
    (``origin``: where the image starts in the padded input, see :func:`cell_index`).

    Examples
    --------
    >>> run = forward(*load_model("membrane"), np.zeros((16, 16, 1), np.float32))
    >>> len(run.encoder), len(run.decoder), run.decoder[3].shape
    (5, 4, (128, 2, 2))
    """

    probabilities: np.ndarray
    encoder: list
    decoder: list
    origin: tuple[int, int] = (0, 0)


def _crop_level(maps: torch.Tensor, inp: NetworkInput, level: int) -> np.ndarray:
    """The part of a level's maps that lies over the image (padding cut away)."""
    f = 2**level
    r0, r1 = inp.top // f, -(-(inp.top + inp.height) // f)
    c0, c1 = inp.left // f, -(-(inp.left + inp.width) // f)
    return maps[0, :, r0:r1, c0:c1].numpy().astype(np.float32)


def forward(net: UNet, card: ModelCard, image: np.ndarray, *, skips_off=(),
            skip_fill: str = "zeros") -> Forward:
    """Run the network on an image at its working scale and keep every level's maps.

    ``skips_off`` and ``skip_fill`` switch skip connections off level by level (see
    :meth:`segcore.nn.unet.UNet.forward`). With none switched off the probabilities
    are :func:`segcore.nn.infer.predict`'s (to float rounding).

    Examples
    --------
    >>> net, card = load_model("membrane")
    >>> run = forward(net, card, np.zeros((20, 30, 1), np.float32))
    >>> [m.shape for m in run.encoder][:2], run.decoder[0].shape
    ([(16, 20, 30), (32, 10, 16)], (16, 20, 30))
    """
    inp = network_input(image, card)
    with torch.inference_mode():
        scores, feats = net(inp.x.contiguous(), return_features=True, skips_off=skips_off,
                            skip_fill=skip_fill)
        probs = torch.softmax(scores, dim=1)[0, :, inp.top:inp.top + inp.height,
                                             inp.left:inp.left + inp.width]
        depth = card.config.depth
        encoder = [_crop_level(m, inp, level) for level, m in enumerate(feats["encoder"])]
        decoder = [_crop_level(m, inp, depth - 1 - i) for i, m in enumerate(feats["decoder"])]
    return Forward(probabilities=probs.permute(1, 2, 0).numpy().astype(np.float32),
                   encoder=encoder, decoder=decoder[::-1], origin=(inp.top, inp.left))


@dataclass(frozen=True)
class Level:
    """One level of the U, as the lesson names it: ``part`` ``"encoder"``,
    ``"bottleneck"`` or ``"decoder"``, ``level`` ``0..depth``, its channels and the
    fraction of the input size it works at.

    Examples
    --------
    >>> lv = Level("decoder", 1, 32, 2)
    >>> lv.name, lv.size, lv.label
    ('Decoder level 2', '1/2 size', 'Decoder level 2 (1/2 size, 32 channels)')
    """

    part: str
    level: int
    channels: int
    scale: int

    @property
    def key(self) -> str:
        return f"{self.part} {self.level}"

    @property
    def name(self) -> str:
        """``"Encoder level 1"``, ``"Bottleneck"``, ``"Decoder level 1"``..."""
        if self.part == "bottleneck":
            return "Bottleneck"
        return f"{self.part.capitalize()} level {self.level + 1}"

    @property
    def size(self) -> str:
        """``"full size"``, ``"1/2 size"``..."""
        return "full size" if self.scale == 1 else f"1/{self.scale} size"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.size}, {self.channels} channels)"


def levels(config: UNetConfig) -> list[Level]:
    """Every level in the order the data flows: down the encoder, the bottleneck, up the
    decoder.

    Examples
    --------
    >>> [lv.label for lv in levels(UNetConfig(depth=1, base=8))]
    ['Encoder level 1 (full size, 8 channels)', 'Bottleneck (1/2 size, 16 channels)', \
'Decoder level 1 (full size, 8 channels)']
    """
    d, b = config.depth, config.base
    down = [Level("encoder", lv, b * 2**lv, 2**lv) for lv in range(d)]
    up = [Level("decoder", lv, b * 2**lv, 2**lv) for lv in reversed(range(d))]
    return down + [Level("bottleneck", d, b * 2**d, 2**d)] + up


def level_maps(run: Forward, level: Level) -> np.ndarray:
    """The ``(C, h, w)`` maps of one level of a :func:`forward` pass.

    Examples
    --------
    >>> net, card = load_model("membrane")
    >>> run = forward(net, card, np.zeros((16, 16, 1), np.float32))
    >>> level_maps(run, levels(card.config)[4]).shape
    (256, 1, 1)
    """
    if level.part == "decoder":
        return run.decoder[level.level]
    return run.encoder[level.level]


def channel_grid(maps: np.ndarray, *, columns: int | None = None, gap: int = 1
                 ) -> np.ndarray:
    """The channels of ``maps`` ``(C, h, w)`` as one picture, a grid of small gray
    pictures (each channel stretched from its own minimum, black, to its maximum,
    white; a flat channel is black), ``gap`` pixels of blue between them.

    Returns
    -------
    (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> grid = channel_grid(np.arange(8.0).reshape(2, 2, 2), columns=2)
    >>> grid.shape, grid[1, 1].tolist(), grid[0, 2].tolist()
    ((2, 5, 3), [1.0, 1.0, 1.0], [0.0, 0.3..., 0.5...])
    """
    maps = np.asarray(maps, np.float32)
    c, h, w = maps.shape
    columns = columns or int(np.ceil(np.sqrt(c)))
    rows = -(-c // columns)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    scaled = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)
    out = np.empty((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), np.float32)
    out[:] = np.asarray(GAP_COLOUR, np.float32)
    for k in range(c):
        r, q = divmod(k, columns)
        out[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = scaled[k, :, :, None]
    return out



def cell_index(length: int, *, scale: int, start: int = 0) -> np.ndarray:
    """For each of ``length`` image rows (or columns), the cell of a level's cut map
    (:func:`forward`) that lies over it: a cell covers ``scale`` rows of the padded
    network input, where the image starts at row ``start``.

    Examples
    --------
    >>> cell_index(6, scale=4, start=2).tolist()
    [0, 0, 1, 1, 1, 1]
    """
    return (np.arange(length) + start) // scale - start // scale


def likeness(maps: np.ndarray, answer: np.ndarray, *, scale: int = 1,
             origin: tuple[int, int] = (0, 0)) -> tuple[float, int]:
    """How much the most answer-like channel of a level looks like ``answer`` (an
    ``(H, W)`` map, the object probability): the largest absolute correlation between
    a channel, each cell spread over the image pixels under it (:func:`cell_index`,
    ``origin`` the image's top-left corner in the padded input), and the answer; and
    that channel. Computed from sums over the cells, without making the big maps.

    Examples
    --------
    >>> answer = np.zeros((4, 4)); answer[:, 2:] = 1
    >>> maps = np.stack([np.ones((2, 2)), np.array([[5.0, 0.0], [5.0, 0.0]])])
    >>> likeness(maps, answer, scale=2)
    (1.0, 1)
    """
    maps = np.asarray(maps, np.float64)
    a = np.asarray(answer, np.float64)
    c, h, w = maps.shape
    rows = cell_index(a.shape[0], scale=scale, start=origin[0])
    cols = cell_index(a.shape[1], scale=scale, start=origin[1])
    cells = (rows[:, None] * w + cols[None, :]).ravel()
    n = a.size
    count = np.bincount(cells, minlength=h * w)
    total = np.bincount(cells, weights=a.ravel(), minlength=h * w)
    f = maps.reshape(c, h * w)
    mean_f = f @ count / n
    cov = f @ total / n - mean_f * a.mean()
    var_f = (f**2) @ count / n - mean_f**2
    norm = np.sqrt(np.maximum(var_f, 0) * a.var())
    # A flat channel (or answer) has no correlation; 1e-12 keeps rounding from faking one.
    corr = np.divide(np.abs(cov), norm, out=np.zeros(c), where=norm > 1e-12)
    best = int(corr.argmax())
    return round(min(float(corr[best]), 1.0), 12), best


# --------------------------------------------------------------------------- receptive field


def _dilate(support: np.ndarray, radius: int) -> np.ndarray:
    """Positions within ``radius`` of a position in ``support`` (1-D, cut at the ends)."""
    out = support.copy()
    for d in range(1, radius + 1):
        out[d:] |= support[:-d]
        out[:-d] |= support[d:]
    return out


def _upsampling_sources(fine: np.ndarray, n_coarse: int, mode: str) -> np.ndarray:
    """The coarse positions an upsampling by 2 reads for the ``fine`` positions."""
    coarse = np.zeros(n_coarse, bool)
    q = np.flatnonzero(fine)
    if mode == "transpose":  # a 2x2 kernel with stride 2: each output has one input
        coarse[q // 2] = True
    else:  # bilinear, align_corners=False: two neighbours, unless the weight is 0
        src = np.maximum((q + 0.5) / 2 - 0.5, 0)
        low = np.floor(src).astype(int)
        coarse[low] = True
        coarse[np.minimum(low + 1, n_coarse - 1)[src > low]] = True
    return coarse


def axis_field(config: UNetConfig, length: int, index: int) -> np.ndarray:
    """Along one axis of the network's input (``length`` a multiple of
    ``2 ** depth``): which positions can change the output at ``index``. Every layer
    treats rows and columns alike (3 x 3 convolutions, 2 x 2 pooling and upsampling),
    so the 2-D field is the rectangle of the row and column fields.

    Walks the network backwards: each 3 x 3 convolution widens the field by one position
    on each side at its level, a max-pool's output reads the 2 x 2 block under it, an
    upsampled pixel reads the coarse pixels under it, and a skip joins the field of the
    encoder's level to the decoder's.

    Examples
    --------
    >>> cfg = UNetConfig(depth=1, base=4)
    >>> on = np.flatnonzero(axis_field(cfg, 64, 32))
    >>> on[0].item(), on[-1].item(), len(on)
    (24, 41, 18)
    """
    d = config.depth
    if length % 2**d or not 0 <= index < length:
        raise ValueError(f"length must be a multiple of {2**d} and index inside it, got "
                         f"{length} and {index}")
    sizes = [length >> lv for lv in range(d + 1)]
    encoder = [np.zeros(n, bool) for n in sizes]
    decoder = np.zeros(length, bool)
    decoder[index] = True
    for lv in range(d):  # up the decoder's levels, backwards: from the output down
        inputs = _dilate(decoder, 2)  # the DoubleConv of decoder level lv
        if config.skips:
            encoder[lv] |= inputs
        decoder = _upsampling_sources(inputs, sizes[lv + 1], config.up)
    encoder[d] |= decoder
    for lv in range(d, 0, -1):  # down the encoder, backwards: DoubleConv, then max-pool
        encoder[lv - 1] |= np.repeat(_dilate(encoder[lv], 2), 2)
    return _dilate(encoder[0], 2)  # the first DoubleConv


def theoretical_field(config: UNetConfig, inp: NetworkInput, row: int, col: int
                      ) -> np.ndarray:
    """The pixels of the image that can change the output at ``(row, col)``: the
    architecture's field on the network's input, folded back through the padding
    (a padded pixel copies an image pixel).

    Returns
    -------
    (H, W) bool ndarray

    Examples
    --------
    >>> card = load_model("membrane")[1]
    >>> inp = network_input(np.zeros((300, 300, 1), np.float32), card)
    >>> field = theoretical_field(card.config, inp, 150, 150)
    >>> int(field.sum(axis=1).max()), int(field.sum(axis=0).max())
    (204, 204)
    """
    def fold(length, index, source, n):
        on = axis_field(config, length, index)
        out = np.zeros(n, bool)
        out[source[on]] = True
        return out

    rows = fold(inp.x.shape[-2], inp.top + row, inp.row_source, inp.height)
    cols = fold(inp.x.shape[-1], inp.left + col, inp.col_source, inp.width)
    return rows[:, None] & cols[None, :]


def encoder_field(config: UNetConfig) -> tuple[int, list[int]]:
    """The width of one bottleneck pixel's field, ``1 + sum (k - 1) j`` over the
    encoder (``k`` a layer's kernel, ``j`` the distance between its input pixels),
    and the terms of that sum level by level (two convolutions at the first level;
    a max-pool and two convolutions at each level below).

    Examples
    --------
    >>> encoder_field(UNetConfig(depth=4))
    (140, [4, 9, 18, 36, 72])
    """
    terms = [2 * 2]
    for lv in range(1, config.depth + 1):
        terms.append((2 - 1) * 2**(lv - 1) + 2 * 2 * 2**lv)
    return 1 + sum(terms), terms


def field_width(config: UNetConfig, offset: int = 0) -> tuple[int, int]:
    """The width of an output pixel's field away from the image's borders, and how many
    bottleneck pixels it reads, for a pixel ``offset`` positions (mod ``2 ** depth``)
    into the pooling grid: ``width = encoder width + 2 ** depth (n - 1)``.

    Examples
    --------
    >>> [field_width(UNetConfig(depth=4), o) for o in (0, 4)]
    [(188, 4), (204, 5)]
    """
    d = config.depth
    width, _ = encoder_field(config)
    span = 2**d
    length = span * (2 * (-(-4 * width // span)) + 1)  # room for the field on both sides
    index = span * (length // span // 2) + offset % span
    on = axis_field(config, length, index)
    if on[0] or on[-1]:  # never: the room above is twice the widest field
        raise AssertionError("field wider than its room")
    n = (int(on.sum()) - width) // span + 1
    return int(on.sum()), n


def gradient_field(net: UNet, card: ModelCard, image: np.ndarray, row: int, col: int
                   ) -> np.ndarray:
    """How much each image pixel changes the output at ``(row, col)``: the size of the
    gradient of the log-probability of the class the network gives that pixel,
    ``|d log p_k(row, col) / d image|``, summed over the image's channels (torch
    autograd, through the same normalisation and padding as :func:`network_input`).

    Returns
    -------
    (H, W) float64 ndarray, zero outside the :func:`theoretical_field`

    Examples
    --------
    >>> net, card = load_model("membrane")
    >>> g = gradient_field(net, card, np.full((32, 32, 1), 0.5, np.float32), 16, 16)
    >>> g.shape, bool(g[16, 16] > 0)
    ((32, 32), True)
    """
    _check_scale(image, card)
    h, w = image.shape[:2]
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"pixel ({row}, {col}) is outside the {h} x {w} image")
    img = image_tensor(image)[None].requires_grad_(True)
    # The model's channels from the image's, differentiably (as adapt_channels does).
    c, want = img.shape[1], card.config.in_channels
    if c == want:
        x = img
    elif c == 1 and want == 3:
        x = img.expand(1, 3, h, w)
    elif c == 3 and want == 1:  # luminance, with skimage.color.rgb2gray's weights
        x = (img * torch.tensor([0.2125, 0.7154, 0.0721]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    else:
        raise ValueError(f"cannot adapt a {c}-channel image to a model taking {want} channels")
    x, top, left = _pad(normalise(x, card), card)
    with torch.enable_grad():
        scores = net(x.contiguous())
        logp = torch.log_softmax(scores[0, :, top + row, left + col], dim=0)
        # autograd.grad, not backward(): the shared network's parameters get no .grad
        (grad,) = torch.autograd.grad(logp[int(logp.argmax())], img)
    return grad[0].abs().sum(0).double().numpy()


def mass_within(gradient: np.ndarray, row: int, col: int) -> np.ndarray:
    """The share of the gradient's total size within ``r`` pixels of ``(row, col)``
    (a square of side ``2 r + 1``), for ``r = 0, 1, ...`` until all of it.

    Examples
    --------
    >>> g = np.zeros((5, 5)); g[2, 2] = 1; g[0, 2] = 3
    >>> mass_within(g, 2, 2).tolist()
    [0.25, 0.25, 1.0]
    """
    g = np.abs(np.asarray(gradient, np.float64))
    rr, cc = np.indices(g.shape)
    distance = np.maximum(np.abs(rr - row), np.abs(cc - col)).ravel()
    total = g.sum()
    sums = np.bincount(distance, weights=g.ravel())
    return np.cumsum(sums) / total if total > 0 else np.ones(len(sums))


def effective_radius(gradient: np.ndarray, row: int, col: int, share: float = 0.9) -> int:
    """The smallest ``r`` whose square around ``(row, col)`` holds ``share`` of the
    gradient's size: the *effective* receptive field's half-width.

    Examples
    --------
    >>> g = np.zeros((5, 5)); g[2, 2] = 1; g[0, 2] = 3
    >>> effective_radius(g, 2, 2, 0.5), effective_radius(g, 2, 2, 0.2)
    (2, 0)
    """
    return int(np.searchsorted(mass_within(gradient, row, col), share - 1e-12))


def heat_picture(values: np.ndarray, *, image: np.ndarray | None = None,
                 scale: float | None = None) -> np.ndarray:
    """A map of values ``>= 0`` in a perceptually ordered colour map (viridis, from
    dark blue at 0 to yellow at ``scale``, the maximum by default), laid over the
    dimmed image where one is given (the colour's opacity grows with the value).

    Examples
    --------
    >>> heat_picture(np.array([[0.0, 1.0]])).shape
    (1, 2, 3)
    """
    v = np.asarray(values, np.float64)
    top = float(v.max(initial=0.0)) if scale is None else float(scale)
    t = np.clip(v / top, 0, 1) if top > 0 else np.zeros_like(v)
    position = t * (len(_VIRIDIS) - 1)
    low = np.minimum(position.astype(int), len(_VIRIDIS) - 2)
    frac = (position - low)[..., None]
    colours = ((1 - frac) * _VIRIDIS[low] + frac * _VIRIDIS[low + 1]).astype(np.float32)
    if image is None:
        return colours
    a = np.sqrt(t)[..., None].astype(np.float32)
    return (a * colours + (1 - a) * 0.5 * viz.to_rgb(image)).astype(np.float32)




def field_picture(image: np.ndarray, gradient: np.ndarray, field: np.ndarray, row: int,
                  col: int, *, radius: int | None = None) -> np.ndarray:
    """The effective field (the gradient's size as a heat map over the dimmed image),
    the theoretical field's outline (white; none where it covers the whole image) and
    the pixel (a red cross); with ``radius``, the square holding most of the gradient
    (dashed red).

    Examples
    --------
    >>> g = np.zeros((9, 9)); g[4, 4] = 1
    >>> field = np.zeros((9, 9), bool); field[2:7, 2:7] = True
    >>> field_picture(np.zeros((9, 9, 1), np.float32), g, field, 4, 4)[2, 2].tolist()
    [1.0, 1.0, 1.0]
    """
    g = np.sqrt(np.abs(np.asarray(gradient, np.float64)))
    # Square roots, and yellow from the 99th percentile up, keep the faint tails of the
    # field visible next to its peak.
    top = float(np.percentile(g[g > 0], 99)) if (g > 0).any() else None
    out = heat_picture(g, image=image, scale=top)
    h, w = g.shape
    if not field.all():
        edge = field & ~ndi.binary_erosion(field, border_value=0)
        out[edge] = FIELD_COLOUR
    if radius is not None:
        r0, r1, c0, c1 = max(row - radius, 0), min(row + radius, h - 1), \
            max(col - radius, 0), min(col + radius, w - 1)
        dashed = np.zeros((h, w), bool)
        dashed[[r0, r1], c0:c1 + 1] = True
        dashed[r0:r1 + 1, [c0, c1]] = True
        rr, cc = np.indices((h, w))
        out[dashed & ((rr + cc) % 4 < 2)] = PIXEL_COLOUR
    arm = max(2, min(h, w) // 40)
    out[max(row - arm, 0):row + arm + 1, col] = PIXEL_COLOUR
    out[row, max(col - arm, 0):col + arm + 1] = PIXEL_COLOUR
    return out


# --------------------------------------------------------------------------- skip connections


def object_mask(probabilities: np.ndarray, card: ModelCard, model: str) -> np.ndarray:
    """Where the model's most probable class is its object class (:data:`OBJECT_CLASS`).

    Examples
    --------
    >>> card = load_model("horse")[1]
    >>> object_mask(np.array([[[0.2, 0.8], [0.9, 0.1]]]), card, "horse").tolist()
    [[True, False]]
    """
    k = card.classes.index(OBJECT_CLASS[model])
    return np.asarray(probabilities).argmax(axis=2) == k


def iou(mask: np.ndarray, objects: np.ndarray) -> float:
    """Intersection over union of a mask and the true objects
    (:func:`segcore.metrics.binary_scores`).

    Examples
    --------
    >>> iou(np.array([[True, True, False]]), np.array([[True, False, False]]))
    0.5
    """
    return float(metrics.binary_scores(np.asarray(mask, bool), np.asarray(objects, bool))["iou"])


def skip_ablation(net: UNet, card: ModelCard, model: str, image: np.ndarray, *,
                  skip_fill: str = "zeros") -> dict[tuple[int, ...], np.ndarray]:
    """The object mask with every skip on, with each level's skip off alone, and with
    all of them off: ``{levels switched off: (H, W) bool mask}``, ``()`` first.

    Examples
    --------
    >>> net, card = load_model("membrane")
    >>> masks = skip_ablation(net, card, "membrane", np.zeros((16, 16, 1), np.float32))
    >>> list(masks)
    [(), (0,), (1,), (2,), (3,), (0, 1, 2, 3)]
    """
    if skip_fill not in SKIP_FILLS:
        raise ValueError(f"skip_fill must be one of {SKIP_FILLS}, got {skip_fill!r}")
    d = card.config.depth
    cases = [()] + [(lv,) for lv in range(d)] + [tuple(range(d))]
    return {off: object_mask(forward(net, card, image, skips_off=off,
                                     skip_fill=skip_fill).probabilities, card, model)
            for off in cases}


# --------------------------------------------------------------------------- uncertainty


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """The uncertainty of each pixel: the entropy ``-sum_k p_k log2 p_k`` of its class
    probabilities ``(H, W, K)``, in bits (0: sure; 1: a coin toss between two classes).

    Examples
    --------
    >>> entropy(np.array([[[0.5, 0.5], [1.0, 0.0]]])).tolist()
    [[1.0, 0.0]]
    """
    p = np.asarray(probabilities, np.float64)
    terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1)), 0.0)
    return terms.sum(axis=2) + 0.0  # + 0.0 turns -0.0 into 0.0


def border_distance(objects: np.ndarray) -> np.ndarray:
    """How far each pixel is from the border between objects and background: the
    distance to the nearest pixel on the other side (1 next to the border; ``inf``
    where there is no other side).

    Examples
    --------
    >>> border_distance(np.array([[False, False, True, True, True]])).tolist()
    [[2.0, 1.0, 1.0, 2.0, 3.0]]
    """
    objects = np.asarray(objects, bool)
    if objects.all() or not objects.any():
        return np.full(objects.shape, np.inf)
    inside = ndi.distance_transform_edt(objects)
    outside = ndi.distance_transform_edt(~objects)
    return np.where(objects, inside, outside)


def uncertainty_by_distance(uncertainty: np.ndarray, objects: np.ndarray, *,
                            longest: int = 30) -> np.ndarray:
    """Mean uncertainty of the pixels at each distance from the border, rounded up to
    whole pixels: entry ``i`` for distances in ``(i, i + 1]``, ``i < longest`` (``nan``
    where no pixel is that far).

    Examples
    --------
    >>> u = np.array([[0.0, 1.0, 1.0, 0.0, 0.0]])
    >>> uncertainty_by_distance(u, np.array([[0, 0, 1, 1, 1]], bool), longest=3).tolist()
    [1.0, 0.0, 0.0]
    """
    d = np.ceil(border_distance(objects)).ravel() - 1
    u = np.asarray(uncertainty, np.float64).ravel()
    keep = d < longest
    sums = np.bincount(d[keep].astype(int), weights=u[keep], minlength=longest)
    counts = np.bincount(d[keep].astype(int), minlength=longest)
    return np.divide(sums, counts, out=np.full(longest, np.nan), where=counts > 0)


def uncertainty_at_borders(uncertainty: np.ndarray, objects: np.ndarray, band: int) -> dict:
    """Mean uncertainty within ``band`` pixels of the border and farther, inside the
    objects and outside them; the band's share of the pixels and of all the
    uncertainty.

    Returns
    -------
    dict
        ``border``, ``inside``, ``outside``, ``elsewhere`` (means; ``nan`` over no
        pixel), ``pixel_share``, ``uncertainty_share``, ``ratio`` (border over
        elsewhere; ``inf`` when elsewhere is 0).

    Examples
    --------
    >>> u = np.array([[0.0, 1.0, 1.0, 0.0, 0.0]])
    >>> out = uncertainty_at_borders(u, np.array([[0, 0, 1, 1, 1]], bool), 1)
    >>> out["border"], out["elsewhere"], out["pixel_share"], out["uncertainty_share"]
    (1.0, 0.0, 0.4, 1.0)
    """
    u = np.asarray(uncertainty, np.float64)
    objects = np.asarray(objects, bool)
    near = border_distance(objects) <= band

    def mean(where):
        return float(u[where].mean()) if where.any() else float("nan")

    border, elsewhere = mean(near), mean(~near)
    total = u.sum()
    return {"border": border, "inside": mean(~near & objects),
            "outside": mean(~near & ~objects), "elsewhere": elsewhere,
            "pixel_share": float(near.mean()),
            "uncertainty_share": float(u[near].sum() / total) if total > 0 else float("nan"),
            "ratio": (border / elsewhere if elsewhere > 0 else float("inf"))}


def sure_share(probabilities: np.ndarray, level: float = 0.9) -> float:
    """The share of pixels whose most probable class has probability above ``level``:
    where the network is sure of its answer (right or wrong).

    Examples
    --------
    >>> sure_share(np.array([[[0.95, 0.05], [0.6, 0.4]]]))
    0.5
    """
    return float((np.asarray(probabilities).max(axis=2) > level).mean())


def outcome_picture(image: np.ndarray, mask: np.ndarray, objects: np.ndarray | None
                    ) -> np.ndarray:
    """A mask over the dimmed image: with the truth, found (green), wrongly marked
    (orange) and missed (blue) pixels in :data:`segcore.viz.ERROR_COLORS`; without it,
    the mask in green.

    Examples
    --------
    >>> pic = outcome_picture(np.zeros((1, 3, 1), np.float32), np.array([[1, 1, 0]], bool),
    ...                       np.array([[1, 0, 1]], bool))
    >>> [viz.hex_colour(px) for px in pic[0]]
    ['#009e73', '#d65e00', '#0073b2']
    """
    mask = np.asarray(mask, bool)
    truth = mask if objects is None else np.asarray(objects, bool)
    kinds = np.select([mask & truth, mask & ~truth, ~mask & truth], [1, 2, 3], 0)
    return viz.error_map(kinds, image=image)


def border_picture(values: np.ndarray, objects: np.ndarray, *, scale: float = 1.0
                   ) -> np.ndarray:
    """A heat map of ``values`` (:func:`heat_picture`, from 0 to ``scale``) with the
    border between objects and background drawn in white.

    Examples
    --------
    >>> objects = np.zeros((4, 4), bool); objects[:, 2:] = True
    >>> border_picture(np.zeros((4, 4)), objects)[0, 2].tolist()
    [1.0, 1.0, 1.0]
    """
    out = heat_picture(values, scale=scale)
    out[np.asarray(objects, bool) & (border_distance(objects) <= 1)] = FIELD_COLOUR
    return out


_LAYOUT = dict(height=300, margin=dict(l=10, r=10, t=30, b=10),
               legend=dict(orientation="h", y=1.15))


def likeness_figure(names: list[str], values: list[float]) -> go.Figure:
    """The likeness of every level (:func:`likeness`) in the order the data flows:
    down the encoder, through the bottleneck, up the decoder.

    Examples
    --------
    >>> likeness_figure(["a", "b"], [0.5, 0.9]).data[0].y
    (0.5, 0.9)
    """
    fig = go.Figure(go.Scatter(x=names, y=values, mode="lines+markers", name="likeness",
                               line=dict(color="#0072b2", width=3)))
    fig.update_layout(yaxis=dict(title="best channel's |correlation|", range=[0, 1.02]),
                      **_LAYOUT)
    return fig


def mass_figure(mass: np.ndarray, *, half_width: float, radius: int) -> go.Figure:
    """The share of the gradient within ``r`` pixels (:func:`mass_within`) against
    ``r``, with the theoretical field's half-width and the effective radius marked.

    Examples
    --------
    >>> [d.name for d in mass_figure(np.array([0.5, 1.0]), half_width=1.5, radius=1).data]
    ['share of the gradient', 'theory: 1.5 px', '90% within 1 px']
    """
    r = np.arange(len(mass))
    fig = go.Figure(go.Scatter(x=r, y=mass, mode="lines", name="share of the gradient",
                               line=dict(color="#0072b2", width=3)))
    for x, name, colour in ((half_width, f"theory: {half_width:g} px", "#555555"),
                            (radius, f"90% within {radius} px", "#d55e00")):
        fig.add_scatter(x=[x, x], y=[0, 1], mode="lines", name=name,
                        line=dict(color=colour, width=2, dash="dash"))
    fig.update_layout(xaxis_title="distance from the pixel r (pixels)",
                      yaxis=dict(title="share within r", range=[0, 1.02]), **_LAYOUT)
    return fig


def ablation_figure(names: list[str], ious: list[float]) -> go.Figure:
    """IoU with every skip on and with skips switched off, as bars.

    Examples
    --------
    >>> ablation_figure(["all on", "level 1 off"], [0.9, 0.8]).data[0].y
    (0.9, 0.8)
    """
    fig = go.Figure(go.Bar(x=names, y=ious, marker_color="#0072b2",
                           text=[f"{v:.3f}" for v in ious], textposition="outside"))
    fig.update_layout(yaxis=dict(title="IoU", range=[0, 1.1]), **_LAYOUT)
    return fig


def distance_figure(curve: np.ndarray, *, band: int) -> go.Figure:
    """Mean uncertainty against the distance from the border
    (:func:`uncertainty_by_distance`), with the band's edge marked.

    Examples
    --------
    >>> [d.name for d in distance_figure(np.array([0.5, 0.1]), band=1).data]
    ['mean uncertainty', 'band: 1 px']
    """
    d = np.arange(1, len(curve) + 1)
    fig = go.Figure(go.Scatter(x=d, y=curve, mode="lines+markers", name="mean uncertainty",
                               line=dict(color="#0072b2", width=3)))
    top = float(np.nanmax(curve)) if np.isfinite(curve).any() else 1.0
    fig.add_scatter(x=[band + 0.5, band + 0.5], y=[0, top], mode="lines",
                    name=f"band: {band} px", line=dict(color="#d55e00", width=2, dash="dash"))
    fig.update_layout(xaxis_title="distance from the border (pixels)",
                      yaxis_title="mean uncertainty (bits)", **_LAYOUT)
    return fig


#: Where a network can be least sure, in the words of the lesson's question.
PLACES = {"border": "Along the borders", "inside": "Inside the objects",
          "outside": "In the background", "even": "About the same everywhere"}


def least_sure(stats: dict, *, contrast: float = 1.5) -> str:
    """Where the mean uncertainty of :func:`uncertainty_at_borders` is highest:
    ``"border"``, ``"inside"`` or ``"outside"``, or ``"even"`` when the highest is
    less than ``contrast`` times the lowest (a place with no pixel is left out).

    Examples
    --------
    >>> least_sure({"border": 0.3, "inside": 0.01, "outside": 0.02})
    'border'
    >>> least_sure({"border": 0.1, "inside": 0.09, "outside": float("nan")})
    'even'
    """
    means = {k: stats[k] for k in ("border", "inside", "outside") if np.isfinite(stats[k])}
    top = max(means, key=means.get)
    return "even" if means[top] <= contrast * min(means.values()) else top


def object_shares(mask: np.ndarray, objects: np.ndarray) -> tuple[float, float]:
    """The share of the true objects' pixels, and of the background's, that a mask calls
    object (``nan`` for a part with no pixel).

    Examples
    --------
    >>> object_shares(np.array([[1, 1, 0, 1]], bool), np.array([[1, 1, 0, 0]], bool))
    (1.0, 0.5)
    """
    mask, objects = np.asarray(mask, bool), np.asarray(objects, bool)

    def share(where):
        return float(mask[where].mean()) if where.any() else float("nan")

    return share(objects), share(~objects)
