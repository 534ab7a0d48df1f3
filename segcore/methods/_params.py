"""Parameters that several methods share, declared once so they mean one thing."""

from __future__ import annotations

from segcore.color import SPACES
from segcore.registry import Param

SPACE = Param("space", "choice", "lab", label="Colour space", choices=SPACES,
              help="The colour space pixels are compared in: rgb, lab (distances "
                   "close to what the eye sees), hsv, or gray (a gray image has only gray).")
RNG = Param("rng", "int", 0, label="Random start", low=0, high=2**31 - 1,
            help="Seed of the random start; the same number gives the same labels.")


def blur_param(default: float, before: str) -> Param:
    """The Gaussian blur a method applies ``before`` its main step, in pixels.

    Examples
    --------
    >>> blur_param(1.0, "looking for edges").label
    'Blur (σ, pixels)'
    """
    return Param("sigma", "float", default, label="Blur (σ, pixels)", low=0.0, high=5.0,
                 step=0.1, help=f"Gaussian blur (standard deviation in pixels) "
                                f"before {before}; 0 turns it off.")
