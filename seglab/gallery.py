"""The pictures of the Image page's gallery of samples.

They are made by :func:`make_thumbnail` and shipped in ``seglab/thumbnails/``: a
fresh server shows the gallery without decoding 14 pictures and drawing 6 (0.3 s
of its first page). They are JPEG files at the quality Streamlit itself would send
(90): a picture already in the format ``st.image`` sends goes out as it is, where a
PNG would be decoded and encoded anew on every run of the Image page (20 ms of each,
issue #12). ``python -m seglab.gallery`` makes them anew after a sample changes; a
test checks each against what it would make now.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segcore import samples, synthetic, viz

THUMBNAILS = Path(__file__).parent / "thumbnails"
#: Streamlit's own JPEG quality for the pictures it encodes.
QUALITY = 90


def thumbnail_path(origin: str, name: str) -> Path:
    return THUMBNAILS / f"{origin}-{name.replace(' ', '_')}.jpg"


def make_thumbnail(origin: str, name: str, side: int = 160) -> np.ndarray:
    """A small square ``uint8`` picture of a sample (centre crop), made from the
    pixels as they come, not from a decoded, previewed sample."""
    if origin == "generated":
        picture = synthetic.make(name).image
    else:
        picture = samples.skimage_picture(name)  # uint8, shown as it is
    h, w = picture.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return viz.display_rgb(picture[top:top + s, left:left + s], side=side)


def thumbnail(origin: str, name: str) -> bytes | np.ndarray:
    """The gallery's picture of a sample: the shipped file, or one made now."""
    path = thumbnail_path(origin, name)
    return path.read_bytes() if path.exists() else make_thumbnail(origin, name)


def write_thumbnails() -> None:
    """Make the shipped pictures anew."""
    from PIL import Image

    THUMBNAILS.mkdir(exist_ok=True)
    for old in THUMBNAILS.glob("*"):
        old.unlink()
    for s in samples.list_samples():
        Image.fromarray(make_thumbnail(s.origin, s.name)).save(
            thumbnail_path(s.origin, s.name), quality=QUALITY, optimize=True)


if __name__ == "__main__":
    write_thumbnails()
