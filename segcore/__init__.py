"""segcore: the segmentation engine behind SegLab.

Images are ``float32 (H, W, C)`` arrays in ``[0, 1]`` with ``C`` 1 or 3; only
:func:`load_image` converts from files. Labels are ``int32 (H, W)`` with ``0``
for unlabelled pixels and regions ``1..N``.

>>> import segcore
>>> img = segcore.synthetic.two_regions((32, 32))
>>> segcore.segment(img.image, "kmeans", k=2).n_regions
2
"""

from segcore.io import ImageError, load_image, preview
from segcore.registry import (
    MethodSpec,
    Param,
    Segmentation,
    as_markers,
    check_image,
    get_method,
    list_methods,
    scale_seeds,
    segment,
)
from segcore import metrics, samples, synthetic  # noqa: E402  (light modules, always handy)

__all__ = [
    "ImageError",
    "load_image",
    "preview",
    "MethodSpec",
    "Param",
    "Segmentation",
    "as_markers",
    "check_image",
    "get_method",
    "list_methods",
    "scale_seeds",
    "segment",
    "metrics",
    "samples",
    "synthetic",
]

__version__ = "0.1.0"
