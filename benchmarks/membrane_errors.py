"""Where a membrane U-Net's pixel errors come from, slice by slice (ISBI 2012).

Run from the repository root::

    python -m benchmarks.membrane_errors --data ../shared/data/isbi2012-membrane
    python -m benchmarks.membrane_errors --data DATA --model fold/membrane.pt --slices 0-4

For each slice it prints the membrane fraction of the label and of the prediction, the pixel
error split into missed membrane (labelled membrane, predicted cell) and extra membrane
(labelled cell, predicted membrane), the part of the error that lies within two pixels of
the other class in the label (near a drawn boundary), and the cut-off on the cell probability
that would have been best for that slice alone. That last column reads the slice's labels, so
it is a diagnostic: a bound on what any recalibration of this model could reach, never a way
to choose a setting. Slices 25-29 are the held-out report split, the default here. Any
other slices were trained on (or picked the epoch) for the shipped model: use them only with
a model of your own, e.g. one fold of ``python -m models.train --report FIRST-LAST``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from models.train import load_membrane, parse_slices
from segcore import segment
from segcore.nn.infer import load_model

CUTOFFS = np.round(np.arange(0.05, 0.96, 0.05), 2)


def slice_errors(p_cell: np.ndarray, cell: np.ndarray) -> dict:
    """The error breakdown of one slice, from its cell probability and its cell label mask.

    Fractions of the slice's pixels, except ``best_cutoff``: the cut-off on the cell
    probability (in steps of 0.05) with the fewest errors on this slice, and that error.
    """
    pred = p_cell > 0.5
    wrong = pred != cell
    # Pixels within two pixels of the other class: next to a label boundary, and one more.
    edge = ndi.morphological_gradient(cell.astype(np.uint8), size=3) > 0
    near = ndi.binary_dilation(edge) if edge.any() else edge
    errors = [np.mean((p_cell > c) != cell) for c in CUTOFFS]
    best = int(np.argmin(errors))
    return {
        "label_membrane": float(np.mean(~cell)),
        "pred_membrane": float(np.mean(~pred)),
        "pixel_error": float(np.mean(wrong)),
        "missed_membrane": float(np.mean(pred & ~cell)),
        "extra_membrane": float(np.mean(~pred & cell)),
        "near_boundary": float(np.mean(wrong & near)),
        "best_cutoff": float(CUTOFFS[best]),
        "best_cutoff_error": float(errors[best]),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the isbi2012-membrane folder")
    ap.add_argument("--model", default="membrane",
                    help="the shipped 'membrane' model or a checkpoint path with its card")
    ap.add_argument("--slices", default="25-29", help="FIRST-LAST within 0-29 (default 25-29)")
    args = ap.parse_args(argv)
    ids = parse_slices(args.slices)
    if not ids:
        ap.error(f"--slices {args.slices!r}: expected FIRST-LAST within 0-29, e.g. 25-29")
    if not (args.data / "train/image").is_dir():
        ap.error(f"--data {str(args.data)!r} is not the membrane dataset: expected train/image")
    try:
        classes = load_model(args.model)[1].classes
    except ValueError as err:
        ap.error(f"--model {args.model!r}: {err}")
    if classes != ("membrane", "cell"):
        ap.error(f"--model {args.model!r} predicts {', '.join(classes)}; this needs a "
                 f"membrane / cell model")

    cols = ["label_membrane", "pred_membrane", "pixel_error", "missed_membrane",
            "extra_membrane", "near_boundary", "best_cutoff", "best_cutoff_error"]
    print("slice " + " ".join(f"{c:>17}" for c in cols))
    probs, cells, rows = [], [], []
    for k in ids:
        (image, target), = load_membrane(args.data, [k])
        cell = target.numpy() == 1
        p_cell = segment(image[0].numpy(), "unet", model=args.model).probabilities[..., 1]
        row = slice_errors(p_cell, cell)
        print(f"{k:5d} " + " ".join(f"{row[c]:17.4f}" for c in cols), flush=True)
        probs.append(p_cell)
        cells.append(cell)
        rows.append(row)
    # Slices are the same size, so the mean over slices is the pooled fraction.
    pooled = {c: float(np.mean([r[c] for r in rows])) for c in cols}
    p_all, cell_all = np.stack(probs), np.stack(cells)
    errors = [np.mean((p_all > c) != cell_all) for c in CUTOFFS]
    best = int(np.argmin(errors))
    print("  all " + " ".join(f"{pooled[c]:17.4f}" if c != "best_cutoff" else f"{'':>17}"
                              for c in cols))
    print(f"\npooled pixel error {pooled['pixel_error']:.4f} at cut-off 0.5; {errors[best]:.4f} "
          f"with the best single cut-off ({CUTOFFS[best]:.2f}); "
          f"{pooled['best_cutoff_error']:.4f} with each slice's own best cut-off. "
          f"The last two read these slices' labels: bounds, not settings.")


if __name__ == "__main__":
    main()
