"""Python code that reproduces a segmentation with segcore.

The app offers this snippet next to every result, so what a user found by moving
sliders can be rerun in a script, a notebook or a batch job.
"""

from __future__ import annotations

from typing import Any, Sequence

from segcore.registry import get_method
from segcore.synthetic import SAMPLES

__all__ = ["reproduce_snippet"]


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
                          window_size=31, k=0.2, offset=0.0)
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
