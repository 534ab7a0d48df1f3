"""Neural networks for segmentation: the U-Net and how to run it.

:mod:`segcore.nn.unet` holds the architecture, :mod:`segcore.nn.infer` loads checkpoints
with their model cards and predicts on images of any size, and :mod:`segcore.nn.models`
holds the shipped checkpoints.

Importing this package does not import torch: the architecture's names below are
loaded from :mod:`segcore.nn.unet` on first use.

>>> import segcore.nn
>>> segcore.nn.UNetConfig(depth=2).depth
2
"""

from __future__ import annotations

import importlib

__all__ = ["DoubleConv", "Down", "Up", "OutConv", "UNet", "UNetConfig"]


def __getattr__(name: str):
    # PEP 562: torch is imported with segcore.nn.unet when one of these is first asked for.
    if name in __all__:
        value = getattr(importlib.import_module("segcore.nn.unet"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
