"""Neural networks for segmentation: the U-Net and how to run it.

:mod:`segcore.nn.unet` holds the architecture, :mod:`segcore.nn.infer` loads checkpoints
with their model cards and predicts on images of any size.
"""

from segcore.nn.unet import DoubleConv, Down, OutConv, UNet, UNetConfig, Up

__all__ = ["DoubleConv", "Down", "Up", "OutConv", "UNet", "UNetConfig"]
