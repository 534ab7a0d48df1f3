"""The sample images SegLab ships: its own generated images (with exact ground
truth) and the pictures bundled inside scikit-image (no download).

>>> [s.name for s in list_samples() if s.origin == "generated"][:2]
['shapes', 'colour shapes']
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from segcore import synthetic

__all__ = ["SampleInfo", "SKIMAGE_SAMPLES", "SKIMAGE_TRUTHS", "list_samples", "skimage_picture",
           "skimage_png", "skimage_truth"]

# scikit-image's bundled pictures that ship inside the package (no download).
SKIMAGE_SAMPLES = {
    "coins": "Greek coins on a dark, unevenly lit background.",
    "camera": "The cameraman: a classic gray test picture.",
    "moon": "Low-contrast lunar surface.",
    "page": "A scanned page under uneven light: try a local threshold.",
    "text": "Hand-written text on a textured background.",
    "horse": "A black and white horse silhouette.",
    "cell": "A cell under a phase-contrast microscope.",
    "astronaut": "Eileen Collins, colour portrait.",
    "chelsea": "Chelsea the cat, colour.",
    "coffee": "A cup of coffee, colour.",
    "rocket": "A rocket on the launch pad, colour.",
    "immunohistochemistry": "Stained tissue (IHC): brown and blue nuclei.",
    "hubble_deep_field": "Galaxies from the Hubble Deep Field.",
    "retina": "A retina photograph: 1411 × 1411, so the app works on a preview.",
}


@dataclass(frozen=True)
class SampleInfo:
    """One bundled sample: ``origin`` is ``"generated"`` or ``"scikit-image"``.

    Examples
    --------
    >>> SampleInfo("generated", "blobs", "Round blobs.").origin
    'generated'
    """

    origin: str
    name: str
    description: str


def list_samples() -> list[SampleInfo]:
    """Every bundled sample, generated ones first.

    Examples
    --------
    >>> len(list_samples()) == len(synthetic.SAMPLES) + len(SKIMAGE_SAMPLES)
    True
    """
    out = [SampleInfo("generated", name, synthetic.DESCRIPTIONS[name])
           for name in synthetic.SAMPLES]
    out += [SampleInfo("scikit-image", name, text) for name, text in SKIMAGE_SAMPLES.items()]
    return out


#: The file inside scikit-image's package that each of its loaders reads.
_SKIMAGE_FILES = {name: name + ".png" for name in SKIMAGE_SAMPLES} | {
    "rocket": "rocket.jpg", "immunohistochemistry": "ihc.png",
    "hubble_deep_field": "hubble_deep_field.jpg", "retina": "retina.jpg"}


def skimage_picture(name: str) -> np.ndarray:
    """A picture bundled with scikit-image as ``uint8`` pixels (``(H, W)`` gray or
    ``(H, W, 3)`` colour), straight from the package: the pixels
    ``skimage.data.<name>()`` gives (the horse's ``True`` as 255).

    Examples
    --------
    >>> skimage_picture("coins").shape, skimage_picture("horse").dtype
    ((303, 384), dtype('uint8'))
    """
    if name not in SKIMAGE_SAMPLES:
        raise ValueError(f"unknown sample {name!r}; valid: {', '.join(SKIMAGE_SAMPLES)}")
    import importlib.util
    from pathlib import Path

    from PIL import Image

    # The file read with Pillow, as scikit-image's loaders read it (imread with its
    # 'pil' plugin; tested equal), without importing skimage.data: that imports
    # skimage.io, skimage.color and scipy.linalg, 0.4 s of the app's first page.
    folder = Path(importlib.util.find_spec("skimage").submodule_search_locations[0]) / "data"
    with Image.open(folder / _SKIMAGE_FILES[name]) as picture:
        if name == "horse":  # data.horse(): its gray picture as booleans (white True)
            return np.where(np.asarray(picture.convert("L")) > 127, 255, 0).astype(np.uint8)
        return np.asarray(picture).copy()


def skimage_png(name: str) -> bytes:
    """A picture bundled with scikit-image as PNG bytes, so that it is loaded (and
    can be downloaded) like any file.

    Examples
    --------
    >>> skimage_png("coins")[:4]
    b'\\x89PNG'
    """
    from PIL import Image

    buf = io.BytesIO()
    # zlib's fastest level: the same pixels, a file 8-23% larger, written 2.5-4x sooner
    # (coins 14 -> 6 ms, astronaut 102 -> 36 ms, retina 0.62 -> 0.16 s; issue #12)
    Image.fromarray(skimage_picture(name)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


#: scikit-image's pictures whose ground truth is exact, and why.
SKIMAGE_TRUTHS = {"horse": "exact: a silhouette drawn in black on white, the horse its black pixels"}


def skimage_truth(name: str) -> np.ndarray | None:
    """The exact ground truth of a scikit-image picture where it has one (see
    :data:`SKIMAGE_TRUTHS`), as class ids (``1`` background, ``2`` object), else
    ``None``.

    Examples
    --------
    >>> t = skimage_truth("horse")
    >>> t.shape == skimage_picture("horse").shape, sorted(set(t.ravel().tolist()))
    (True, [1, 2])
    >>> skimage_truth("coins") is None
    True
    """
    if name not in SKIMAGE_TRUTHS:
        return None
    # data.horse() is True (255 here) on the white background, False on the horse.
    return np.where(skimage_picture("horse") > 0, 1, 2).astype(np.int32)
