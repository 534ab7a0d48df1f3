"""A PNG chart of benchmark times drawn with Pillow alone (no matplotlib, no kaleido):
one small panel per case, megapixels across and seconds up, both on log scales,
segcore's line beside its peer's, with their ratio under each size.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OURS = (0, 114, 178)  # blue
PEER = (230, 159, 0)  # orange
GRID = (225, 225, 225)
INK = (40, 40, 40)
MUTED = (110, 110, 110)
PANEL_W, PANEL_H, COLS = 330, 230, 4
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 30, 44
HEADER = 56


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def seconds_label(seconds: float) -> str:
    """A decade of seconds in words.

    Examples
    --------
    >>> [seconds_label(10.0 ** e) for e in (-3, -1, 0, 2)]
    ['1 ms', '0.1 s', '1 s', '100 s']
    """
    if seconds < 0.01:
        return f"{seconds * 1000:g} ms"
    return f"{seconds:g} s"


def _series(rows, case: str) -> tuple[list, list, list, list]:
    sizes, ours, peer, notes = [], [], [], []
    for r in rows:
        if r.case != case:
            continue
        sizes.append(r.size_mp)
        ours.append(r.ours.get("seconds") if r.ours.get("status") == "ok" else None)
        peer.append(r.peer.get("seconds") if r.peer.get("status") == "ok" else None)
        missing = [f"{who} {side.get('status')}" for who, side in (("ours", r.ours),
                                                                   ("peer", r.peer))
                   if side and side.get("status") != "ok"]
        notes.append(", ".join(missing))
    return sizes, ours, peer, notes


def _panel(draw: ImageDraw.ImageDraw, x0: int, y0: int, case: str, sizes, ours, peer,
           notes) -> None:
    small, tiny = _font(13), _font(11)
    draw.text((x0 + LEFT, y0 + 6), case, fill=INK, font=_font(14))
    values = [v for v in ours + peer if v]
    if not values:
        draw.text((x0 + LEFT, y0 + TOP + 40), "no time measured", fill=MUTED, font=small)
        return
    lo = math.floor(math.log10(min(values)))
    hi = max(lo + 1, math.ceil(math.log10(max(values))))
    left, right = x0 + LEFT, x0 + PANEL_W - RIGHT
    top, bottom = y0 + TOP, y0 + PANEL_H - BOTTOM
    logs = [math.log2(s) for s in sizes]
    span = (max(logs) - min(logs)) or 1.0

    def px(size_log: float) -> float:
        if len(sizes) == 1:
            return (left + right) / 2
        return left + 10 + (right - left - 20) * (size_log - min(logs)) / span

    def py(seconds: float) -> float:
        return bottom - (bottom - top) * (math.log10(seconds) - lo) / (hi - lo)

    for e in range(lo, hi + 1):
        y = py(10.0 ** e)
        draw.line([(left, y), (right, y)], fill=GRID)
        label = seconds_label(10.0 ** e)
        draw.text((left - 6, y), label, fill=MUTED, font=tiny, anchor="rm")
    draw.rectangle([left, top, right, bottom], outline=MUTED)
    for s, lg, a, b, note in zip(sizes, logs, ours, peer, notes):
        draw.text((px(lg), bottom + 4), f"{s:g} MP", fill=MUTED, font=tiny, anchor="mt")
        if a and b:  # the ratio under its size
            draw.text((px(lg), bottom + 18), f"x{a / b:.2g}", fill=INK, font=tiny, anchor="mt")
        elif note:  # a side that did not finish: skipped or failed
            draw.text((px(lg), bottom + 18), note, fill=MUTED, font=tiny, anchor="mt")
    for series, colour, square in ((peer, PEER, True), (ours, OURS, False)):
        points = [(px(lg), py(v)) for lg, v in zip(logs, series) if v]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        for x, y in points:
            box = [x - 4, y - 4, x + 4, y + 4]
            (draw.rectangle if square else draw.ellipse)(box, fill=colour)


def time_chart(rows, path: Path, *, title: str) -> None:
    """Draw every case of ``rows`` (objects with ``case``, ``size_mp``, ``ours`` and
    ``peer`` dicts) as a panel of a grid and save the PNG at ``path``."""
    cases = list(dict.fromkeys(r.case for r in rows))
    n_rows = max(1, math.ceil(len(cases) / COLS))
    width = PANEL_W * min(COLS, max(1, len(cases)))
    image = Image.new("RGB", (max(width, 700), HEADER + PANEL_H * n_rows), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 8), title, fill=INK, font=_font(16))
    legend_y = 34
    draw.ellipse([12, legend_y - 4, 20, legend_y + 4], fill=OURS)
    draw.text((26, legend_y), "segcore (ours)", fill=INK, font=_font(13), anchor="lm")
    draw.rectangle([142, legend_y - 4, 150, legend_y + 4], fill=PEER)
    draw.text((156, legend_y), "peer (same job, same run)", fill=INK, font=_font(13),
              anchor="lm")
    draw.text((360, legend_y), "x r under a size: ours / peer time (below 1 is faster)", fill=MUTED,
              font=_font(13), anchor="lm")
    for i, case in enumerate(cases):
        x0 = PANEL_W * (i % COLS)
        y0 = HEADER + PANEL_H * (i // COLS)
        _panel(draw, x0, y0, case, *_series(rows, case))
    image.save(path)
