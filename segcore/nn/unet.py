"""The U-Net of Ronneberger, Fischer and Brox (2015), written to read like its diagram.

Four small blocks make the whole network: :class:`DoubleConv` (two 3x3 convolutions with
batch norm and ReLU), :class:`Down` (max-pool, then DoubleConv), :class:`Up` (upsample,
concatenate the skip connection, DoubleConv) and :class:`OutConv` (a 1x1 convolution to
class scores). :class:`UNet` stacks them: an encoder of ``depth`` Down blocks, the
bottleneck at the bottom, and a decoder of ``depth`` Up blocks.

Unlike the paper the convolutions are padded, so the output has the input's size as
long as height and width are multiples of ``2 ** depth`` (:mod:`segcore.nn.infer` pads
and crops to make any size fit).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn

__all__ = ["UNetConfig", "DoubleConv", "Down", "Up", "OutConv", "UNet"]


@dataclass(frozen=True)
class UNetConfig:
    """The architecture of a :class:`UNet`, as saved in a model card.

    Attributes
    ----------
    in_channels : int
        Channels of the input image (1 gray, 3 RGB).
    n_classes : int
        Number of output classes (score maps).
    depth : int
        Number of down-sampling steps; the input is halved ``depth`` times.
    base : int
        Channels after the first DoubleConv; each level doubles it.
    up : {"transpose", "bilinear"}
        Transposed 2x2 convolution, or bilinear upsampling followed by a 1x1 convolution.
    skips : bool
        Whether the decoder gets the encoder's feature maps (the skip connections).
    dropout : float
        Dropout probability on the bottleneck, "at the end of the contracting path" as in
        the U-Net paper; active in training only, so it changes no weights and no output of
        a model in eval mode.

    Examples
    --------
    >>> UNetConfig.from_dict({"in_channels": 1, "n_classes": 2, "depth": 3}).base
    16
    """

    in_channels: int = 1
    n_classes: int = 2
    depth: int = 4
    base: int = 16
    up: Literal["transpose", "bilinear"] = "transpose"
    skips: bool = True
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("in_channels", "n_classes", "depth", "base"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"UNet config {name!r} must be a positive integer, got {value!r}")
        if self.n_classes < 2:
            raise ValueError(f"UNet config 'n_classes' must be at least 2, got {self.n_classes}")
        if self.depth > 8:
            raise ValueError(f"UNet config 'depth' must be at most 8, got {self.depth}")
        if self.up not in ("transpose", "bilinear"):
            raise ValueError(f"UNet config 'up' must be 'transpose' or 'bilinear', got {self.up!r}")
        if not isinstance(self.skips, bool):
            raise ValueError(f"UNet config 'skips' must be true or false, got {self.skips!r}")
        if not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"UNet config 'dropout' must be in [0, 1), got {self.dropout!r}")

    @classmethod
    def from_dict(cls, data: dict) -> "UNetConfig":
        """Build from a card's ``architecture`` dict; unknown keys are an error."""
        if not isinstance(data, dict):
            raise ValueError(f"UNet config must be a dict, got {type(data).__name__}")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"UNet config has unknown keys {unknown}; expected some of {sorted(known)}"
            )
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


class DoubleConv(nn.Module):
    """(3x3 conv -> batch norm -> ReLU) twice; keeps height and width.

    Examples
    --------
    >>> DoubleConv(1, 8)(torch.zeros(1, 1, 12, 10)).shape
    torch.Size([1, 8, 12, 10])
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Down(nn.Module):
    """Halve height and width with a 2x2 max-pool, then DoubleConv.

    Examples
    --------
    >>> Down(8, 16)(torch.zeros(1, 8, 12, 10)).shape
    torch.Size([1, 16, 6, 5])
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class Up(nn.Module):
    """Double height and width, concatenate the skip connection, then DoubleConv.

    Upsampling halves the channels (``in_channels -> in_channels // 2``) either with a
    transposed 2x2 convolution or with bilinear interpolation plus a 1x1 convolution.
    With ``skip=False`` no encoder map is concatenated: the DoubleConv then sees only the
    upsampled decoder map, which is what the lessons compare against.

    Examples
    --------
    >>> up = Up(32, 16)
    >>> up(torch.zeros(1, 32, 3, 4), torch.zeros(1, 16, 6, 8)).shape
    torch.Size([1, 16, 6, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, *, mode: str = "transpose",
                 skip: bool = True):
        super().__init__()
        half = in_channels // 2
        if mode == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, half, 2, stride=2)
        else:
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_channels, half, 1),
            )
        self.skip = skip
        self.conv = DoubleConv(half + (out_channels if skip else 0), out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = self.up(x)
        if self.skip:
            x = torch.cat([skip, x], dim=1)
        return self.conv(x)


class OutConv(nn.Module):
    """1x1 convolution from feature channels to one score map per class.

    Examples
    --------
    >>> OutConv(16, 2)(torch.zeros(1, 16, 4, 4)).shape
    torch.Size([1, 2, 4, 4])
    """

    def __init__(self, in_channels: int, n_classes: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, n_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UNet(nn.Module):
    """U-Net: an encoder that halves the image ``depth`` times, a decoder that doubles it back.

    Parameters
    ----------
    config : UNetConfig, optional
        The architecture; keyword arguments build one when it is not given.
    **kwargs
        Fields of :class:`UNetConfig` (``in_channels``, ``n_classes``, ``depth``, ``base``,
        ``up``, ``skips``, ``dropout``).

    Notes
    -----
    Level ``i`` of the encoder has ``base * 2**i`` channels at ``1 / 2**i`` of the input
    size; the bottleneck is level ``depth``. The decoder mirrors it. ``forward`` needs
    height and width divisible by ``2 ** depth``; :func:`segcore.nn.infer.predict`
    handles any size.

    Examples
    --------
    >>> net = UNet(in_channels=1, n_classes=2, depth=2, base=4)
    >>> net(torch.zeros(1, 1, 16, 12)).shape
    torch.Size([1, 2, 16, 12])
    >>> scores, feats = net(torch.zeros(1, 1, 16, 12), return_features=True)
    >>> [tuple(f.shape[1:]) for f in feats["encoder"]]
    [(4, 16, 12), (8, 8, 6), (16, 4, 3)]
    """

    def __init__(self, config: UNetConfig | None = None, **kwargs):
        super().__init__()
        if config is None:
            config = UNetConfig(**kwargs)
        elif kwargs:
            raise ValueError("give either a UNetConfig or keyword arguments, not both")
        self.config = config
        widths = [config.base * 2**i for i in range(config.depth + 1)]
        self.inc = DoubleConv(config.in_channels, widths[0])
        self.downs = nn.ModuleList(Down(widths[i], widths[i + 1]) for i in range(config.depth))
        self.dropout = nn.Dropout(config.dropout)
        self.ups = nn.ModuleList(
            Up(widths[i + 1], widths[i], mode=config.up, skip=config.skips)
            for i in reversed(range(config.depth))
        )
        self.outc = OutConv(widths[0], config.n_classes)

    def forward(self, x: torch.Tensor, return_features: bool = False, *,
                skips_off=(), skip_fill: Literal["zeros", "mean"] = "zeros"):
        """Class scores (logits) ``(N, n_classes, H, W)`` for input ``(N, in_channels, H, W)``.

        With ``return_features=True`` also returns ``{"encoder": [...], "decoder": [...]}``:
        the encoder list holds one map per level from full resolution down to the bottleneck
        (``depth + 1`` maps), the decoder list one map per level from just above the
        bottleneck back up to full resolution (``depth`` maps).

        ``skips_off`` names encoder levels (``0`` full resolution .. ``depth - 1``) whose
        skip connection is switched off, to see what it brings: the decoder then gets, in
        place of that level's encoder map, zeros (``skip_fill="zeros"``) or each channel's
        mean over the image (``"mean"``: how much, but not where). The returned encoder
        features stay the encoder's own. With no level named (the default) the forward
        pass is the ordinary one, bit for bit.

        Examples
        --------
        >>> net = UNet(in_channels=1, n_classes=2, depth=2, base=4).eval()
        >>> x = torch.rand(1, 1, 8, 8)
        >>> torch.equal(net(x, skips_off=()), net(x)), torch.equal(net(x, skips_off=[0]), net(x))
        (True, False)
        """
        depth = self.config.depth
        if x.shape[-2] % 2**depth or x.shape[-1] % 2**depth:
            raise ValueError(
                f"UNet of depth {depth} needs height and width divisible by {2**depth}, "
                f"got {tuple(x.shape[-2:])}; segcore.nn.infer.predict pads any size"
            )
        skips_off = set(skips_off)
        if skips_off:
            if not self.config.skips:
                raise ValueError("this U-Net has no skip connections to switch off")
            if not skips_off <= set(range(depth)):
                raise ValueError(f"skips_off must name levels 0..{depth - 1}, got "
                                 f"{sorted(skips_off)}")
            if skip_fill not in ("zeros", "mean"):
                raise ValueError(f"skip_fill must be 'zeros' or 'mean', got {skip_fill!r}")
        # Encoder: keep every level's output for the skip connections.
        encoder = [self.inc(x)]
        for down in self.downs:
            encoder.append(down(encoder[-1]))
        # Decoder: from the bottleneck up, each step joined with the encoder level beside it.
        x = self.dropout(encoder[-1])
        decoder = []
        for level, up, skip in zip(reversed(range(depth)), self.ups, reversed(encoder[:-1])):
            if level in skips_off:
                skip = (torch.zeros_like(skip) if skip_fill == "zeros" else
                        skip.mean(dim=(-2, -1), keepdim=True).expand_as(skip))
            x = up(x, skip)
            decoder.append(x)
        scores = self.outc(x)
        if return_features:
            return scores, {"encoder": encoder, "decoder": decoder}
        return scores
