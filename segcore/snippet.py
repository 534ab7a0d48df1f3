"""What a result is exported as: Python code that reproduces it with segcore, and
a JSON-ready record of how it was made.

The app offers both next to every result, so what a user found by moving sliders
can be rerun in a script, a notebook or a batch job.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from segcore.registry import Segmentation, get_method
from segcore.synthetic import SAMPLES

__all__ = ["reproduce_snippet", "result_record", "jsonable"]


def jsonable(value: Any, *, max_items: int = 64) -> Any:
    """``value`` with numpy scalars and arrays made plain for :func:`json.dumps`;
    arrays of more than ``max_items`` values become a short description.

    Examples
    --------
    >>> jsonable({"k": np.int32(3), "c": np.array([0.5, 1.0]), "big": np.zeros((9, 9))})
    {'k': 3, 'c': [0.5, 1.0], 'big': '<array (9, 9) float64>'}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v, max_items=max_items) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, max_items=max_items) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= max_items else f"<array {value.shape} {value.dtype}>"
    if isinstance(value, np.generic):
        return value.item()
    return value


def result_record(seg: Segmentation, *, image: str, image_shape: tuple[int, int],
                  seeds: Sequence[tuple[int, int, int]] | None = None) -> dict:
    """How ``seg`` was made, as a JSON-ready dict: the image and its size, the
    size the method worked on (the full image, or a preview of it), the method,
    every parameter, the seeds (in the worked-on coordinates), the region count
    and the run time.

    Examples
    --------
    >>> seg = Segmentation(labels=np.ones((50, 100), np.int32), method="kmeans", params={"k": 2})
    >>> result_record(seg, image="a.png", image_shape=(100, 200))["worked_on"]
    'preview 100 x 50'
    >>> result_record(seg, image="a.png", image_shape=(50, 100))["worked_on"]
    'full image'
    """
    h, w = seg.labels.shape
    full = (h, w) == tuple(image_shape)
    return {
        "image": image,
        "image_size": {"height": int(image_shape[0]), "width": int(image_shape[1])},
        "worked_on": "full image" if full else f"preview {w} x {h}",
        "method": seg.method,
        "params": jsonable(seg.params),
        "seeds": [list(map(int, s)) for s in seeds] if seeds else None,
        "n_regions": seg.n_regions,
        "elapsed_s": round(seg.elapsed_s, 4),
    }


def reproduce_snippet(
    method: str,
    params: dict[str, Any],
    *,
    seeds: Sequence[tuple[int, int, int]] | None = None,
    path: str = "image.png",
    sample: str | None = None,
    max_pixels: int | None = None,
    output: str = "labels.png",
) -> str:
    """Python source that loads the image, runs ``method`` and saves the labels.

    Parameters
    ----------
    method : str
        A registry name (see :func:`segcore.list_methods`).
    params : dict
        The method's parameters; checked against its spec, so the snippet never
        carries a value that :func:`segcore.segment` would refuse.
    seeds : sequence of (row, col, label), optional
        In the coordinates of the image the method saw (after the preview, if any).
    path : str, optional
        The image file the snippet loads; ignored when ``sample`` is given.
    sample : str, optional
        The name of a generated sample in :data:`segcore.synthetic.SAMPLES`,
        used instead of a file.
    max_pixels : int, optional
        When the result was made on a preview, the preview's pixel budget, so
        the snippet works on the same image.
    output : str, optional
        Where the snippet writes the label PNG.

    Returns
    -------
    code : str
        Source ending in a newline; it imports only segcore.

    Raises
    ------
    ValueError
        Unknown method or sample, or parameters the method refuses.

    Examples
    --------
    >>> print(reproduce_snippet("threshold", {"algorithm": "otsu"}, path="coins.png"), end="")
    import segcore
    from segcore.io import encode_labels_png
    <BLANKLINE>
    image = segcore.load_image('coins.png')
    seg = segcore.segment(image, 'threshold', algorithm='otsu', level=0.5, classes=3,
                          window_size=31, std_weight=0.2, offset=0.0)
    print(seg.n_regions, 'regions in', round(seg.elapsed_s, 3), 's')
    with open('labels.png', 'wb') as f:
        f.write(encode_labels_png(seg.labels))
    >>> code = reproduce_snippet("region_growing", {}, seeds=[(3, 4, 1)], sample="blobs")
    >>> "segcore.synthetic.make('blobs').image" in code, "seeds=[(3, 4, 1)]" in code
    (True, True)
    """
    spec = get_method(method)
    resolved = spec.resolve(dict(params))
    if sample is not None and sample not in SAMPLES:
        raise ValueError(f"unknown sample {sample!r}; valid: {', '.join(SAMPLES)}")
    lines = ["import segcore", "from segcore.io import encode_labels_png", ""]
    if sample is not None:
        lines.append(f"image = segcore.synthetic.make({sample!r}).image")
    else:
        lines.append(f"image = segcore.load_image({str(path)!r})")
    if max_pixels is not None:
        lines.append(f"image = segcore.preview(image, max_pixels={int(max_pixels)})")
    args = [f"{name}={value!r}" for name, value in resolved.items()]
    if seeds:
        args.append("seeds=[" + ", ".join(f"({int(r)}, {int(c)}, {int(lab)})"
                                          for r, c, lab in seeds) + "]")
    lines.extend(_wrap(f"seg = segcore.segment(image, {method!r}", args))
    lines += [
        "print(seg.n_regions, 'regions in', round(seg.elapsed_s, 3), 's')",
        f"with open({str(output)!r}, 'wb') as f:",
        "    f.write(encode_labels_png(seg.labels))",
    ]
    return "\n".join(lines) + "\n"


def _wrap(head: str, args: list[str], width: int = 88) -> list[str]:
    """``head, arg, arg)`` broken into lines no longer than ``width``, aligned under
    the opening parenthesis (a long seed list may still run past ``width``)."""
    indent = " " * (head.index("(") + 1)
    lines, current = [], head
    for arg in args:
        piece = f", {arg}"
        if len(current) + len(piece) + 1 > width and current != head:
            lines.append(current + ",")
            current = indent + arg
        else:
            current += piece
    lines.append(current + ")")
    return lines
