"""BSDS500 region benchmark of segcore's unsupervised methods.

Segmentation covering, probabilistic Rand index and variation of information
against the human segmentations, plus region count and seconds per image.

    python -m benchmarks.bsds --data ../shared/data/bsds500 [--split val] [--limit N]
        [--methods felzenszwalb,slic,...] [--tune] [--limit-train 20] [--json OUT] [--threads 1]

Without ``--tune`` every method runs with its registry defaults (what the app
starts with). With ``--tune`` each method's one or two key parameters are
searched over a small grid on the first ``--limit-train`` TRAIN images; the
setting with the best mean covering is kept for the whole dataset (ODS-style:
one setting, not one per image) and is then scored on ``--split`` (val by
default). The test split is not in the data folder and is never touched.

Scoring follows the BSDS500 region benchmark via :mod:`segcore.metrics`: label
0 in a segmentation covers nothing; PRI and VI use the pixels labelled in both;
VI is in bits. A method that raises ``ValueError`` on an image (no markers
found, too few superpixels) is scored as one region covering the whole image
and counted under "failed". Nothing here is a test: the numbers depend on the
images chosen with ``--limit`` and the timings on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.io as sio
from threadpoolctl import threadpool_limits

import segcore
from segcore import metrics

# The grids searched by --tune, declared as data: one or two parameters that
# decide how coarse the segmentation is. Each grid holds the registry default
# where it makes sense, so tuning cannot do worse than the default on train.
GRIDS: dict[str, dict[str, tuple]] = {
    "felzenszwalb": {"scale": (100.0, 300.0, 1000.0, 3000.0), "min_size": (50, 200, 1000)},
    "slic": {"n_segments": (5, 10, 25, 50, 200), "compactness": (1.0, 3.0, 10.0, 30.0)},
    "kmeans": {"k": (2, 3, 4, 6, 8), "xy_weight": (0.0, 0.5, 1.0, 2.0)},
    "gmm": {"k": (2, 3, 4, 6)},
    "watershed": {"auto_markers": ("distance", "h-minima", "low-gradient"),
                  "h": (0.02, 0.05, 0.1, 0.2, 0.4)},
    "spectral": {"k": (2, 3, 4, 6, 8), "similarity_sigma": (0.05, 0.1, 0.3)},
    "edges": {"edge_fraction": (0.05, 0.1, 0.2, 0.3), "sigma": (1.0, 2.0, 3.0, 4.0)},
    # Two regions at most, so it cannot score well on natural photos; kept as a
    # floor, with a small grid because each image takes one to two seconds.
    "chan_vese": {"mu": (0.1, 0.25, 0.5, 1.0)},
}

# Published BSDS500 region benchmark, TEST split (Arbelaez et al. 2011, TPAMI,
# Table 2), as listed with their verification status in the data folder's README.
# (method, Cov ODS, Cov OIS, Cov Best, PRI ODS, PRI OIS, VI ODS, VI OIS, status)
REFERENCE = (
    ("gPb-owt-ucm", 0.59, 0.65, 0.74, 0.83, 0.86, 1.69, 1.48, "verified"),
    ("Mean Shift", 0.54, 0.58, 0.66, 0.79, 0.81, 1.85, 1.64, "verified (secondary source)"),
    ("Felz-Hutt", 0.52, 0.57, 0.69, 0.80, 0.82, 2.21, 1.87, "recalled, NOT verified"),
    ("Canny-owt-ucm", 0.49, 0.55, 0.66, 0.79, 0.83, 2.19, 1.89, "recalled, NOT verified"),
    ("NCuts", 0.45, 0.53, 0.67, 0.78, 0.80, 2.23, 1.89, "recalled, NOT verified"),
    ("Human", 0.72, 0.72, None, 0.88, 0.88, 1.17, 1.17, "recalled, NOT verified"),
)


class Sample(NamedTuple):
    id: str
    image: np.ndarray  # (H, W, 3) float32 in [0, 1]
    truths: list       # the annotators' (H, W) int32 segmentations, regions 1..n


def load_truths(path: Path) -> list[np.ndarray]:
    """The human segmentations stored in one BSDS500 ground-truth ``.mat`` file."""
    gt = sio.loadmat(path)["groundTruth"]
    return [gt[0, k]["Segmentation"][0, 0].astype(np.int32) for k in range(gt.shape[1])]


def load_split(root: Path, split: str, limit: int | None = None) -> list[Sample]:
    """The first ``limit`` images of a split (sorted by id) with their truths."""
    image_dir, truth_dir = root / "images" / split, root / "groundTruth" / split
    paths = sorted(image_dir.glob("*.jpg"), key=lambda p: p.stem)
    if not paths:
        raise SystemExit(f"no images in {image_dir}; --data must be the bsds500 folder "
                         "(with images/ and groundTruth/)")
    samples = []
    for path in paths[:limit]:
        truth_path = truth_dir / f"{path.stem}.mat"
        if not truth_path.is_file():
            raise SystemExit(f"image {path.name} has no ground truth at {truth_path}")
        image, truths = segcore.load_image(path), load_truths(truth_path)
        if any(t.shape != image.shape[:2] for t in truths):
            raise SystemExit(f"{path.name}: image is {image.shape[:2]}, truths are "
                             f"{sorted({t.shape for t in truths})}")
        samples.append(Sample(path.stem, image, truths))
    return samples


def settings(grid: dict[str, tuple]) -> list[dict]:
    """Every combination of a grid, in the order the grid lists its values."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*grid.values())]


def run_method(method: str, params: dict, sample: Sample):
    """(labels, seconds, failed); a documented failure becomes one whole-image region
    with no time (None)."""
    try:
        seg = segcore.segment(sample.image, method, **params)
    except ValueError:
        return np.ones(sample.image.shape[:2], np.int32), None, True
    return seg.labels, seg.elapsed_s, False


def evaluate(method: str, params: dict, samples: list[Sample]) -> list[dict]:
    """Per-image covering, PRI, VI, region count, seconds and failure flag."""
    rows = []
    for sample in samples:
        labels, seconds, failed = run_method(method, params, sample)
        rows.append({
            "id": sample.id,
            "covering": metrics.covering(labels, sample.truths),
            "pri": metrics.probabilistic_rand_index(labels, sample.truths),
            "vi": metrics.bsds_vi(labels, sample.truths),
            "regions": int(np.count_nonzero(np.unique(labels))),
            "seconds": seconds,
            "failed": failed,
        })
    return rows


def summarise(rows: list[dict]) -> dict:
    seconds = [r["seconds"] for r in rows if not r["failed"]]
    return {
        "covering": float(np.mean([r["covering"] for r in rows])),
        "pri": float(np.mean([r["pri"] for r in rows])),
        "vi": float(np.mean([r["vi"] for r in rows])),
        "regions": float(np.mean([r["regions"] for r in rows])),
        "seconds": float(np.mean(seconds)) if seconds else None,
        "failed": sum(r["failed"] for r in rows),
        "n_images": len(rows),
    }


def tune(method: str, samples: list[Sample], log) -> tuple[dict, list[dict]]:
    """The grid setting with the best mean covering on ``samples``, and every
    setting's score. Ties keep the earlier setting in grid order."""
    results = []
    candidates = settings(GRIDS[method])
    for i, params in enumerate(candidates, 1):
        scores, failed = [], 0
        for sample in samples:
            labels, _, bad = run_method(method, params, sample)
            scores.append(metrics.covering(labels, sample.truths))
            failed += bad
        results.append({"params": params, "covering": float(np.mean(scores)), "failed": failed})
        log(f"  {method} [{i}/{len(candidates)}] {fmt_params(params)}: "
            f"covering {results[-1]['covering']:.3f}" + (f", {failed} failed" if failed else ""))
    best = max(results, key=lambda r: r["covering"])  # max keeps the first of equals
    return best["params"], results


def human_agreement(samples: list[Sample]) -> dict:
    """Each annotator scored against the others on the same images (leave-one-out),
    averaged over annotators, then images: the ceiling the measures allow here."""
    per_image = []
    for sample in samples:
        scores = []
        for k, truth in enumerate(sample.truths):
            others = sample.truths[:k] + sample.truths[k + 1:]
            scores.append((metrics.covering(truth, others),
                           metrics.probabilistic_rand_index(truth, others),
                           metrics.bsds_vi(truth, others),
                           int(np.count_nonzero(np.unique(truth)))))
        per_image.append(np.mean(scores, axis=0))
    cov, pri, vi, regions = np.mean(per_image, axis=0)
    return {"covering": float(cov), "pri": float(pri), "vi": float(vi),
            "regions": float(regions), "n_images": len(samples)}


def fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())


def results_table(results: dict, human: dict) -> str:
    head = ("| method | setting | Covering ↑ | PRI ↑ | VI ↓ | regions | s / image | failed |\n"
            "|---|---|---|---|---|---|---|---|")
    lines = [head]
    for name, r in results.items():
        s = r["summary"]
        seconds = "-" if s["seconds"] is None else f"{s['seconds']:.3f}"
        lines.append(f"| {name} | {fmt_params(r['setting'])} | {s['covering']:.3f} | "
                     f"{s['pri']:.3f} | {s['vi']:.3f} | {s['regions']:.1f} | "
                     f"{seconds} | {s['failed']}/{s['n_images']} |")
    lines.append(f"| human (each annotator vs the others) | - | {human['covering']:.3f} | "
                 f"{human['pri']:.3f} | {human['vi']:.3f} | {human['regions']:.1f} | - | - |")
    return "\n".join(lines)


def reference_table() -> str:
    lines = [
        "Published reference (Arbelaez et al. 2011, TPAMI, Table 2): BSDS500 TEST split, "
        "numbers from the paper, NOT measured here and not on the same images. ODS = one "
        "setting for the whole dataset, as the rows above; OIS = best setting per image.",
        "",
        "| method (paper, test split) | Cov ODS | Cov OIS | Cov Best | PRI ODS | PRI OIS "
        "| VI ODS | VI OIS | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, *numbers, status in REFERENCE:
        cells = " | ".join("-" if x is None else f"{x:.2f}" for x in numbers)
        lines.append(f"| {name} | {cells} | {status} |")
    lines += ["", "\"recalled, NOT verified\" rows could not be checked against the paper "
              "(see the data folder's README); do not quote them without checking."]
    return "\n".join(lines)


def parse_methods(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in GRIDS]
    if unknown:
        raise SystemExit(f"unknown or unsupported method(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(GRIDS)}")
    return methods


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="the bsds500 folder (images/ and groundTruth/)")
    parser.add_argument("--split", choices=("val", "train"), default="val",
                        help="split to report on (default val)")
    parser.add_argument("--limit", type=int, default=None,
                        help="use the first N images of --split (sorted by id)")
    parser.add_argument("--methods", default=",".join(GRIDS),
                        help=f"comma-separated, from {','.join(GRIDS)}")
    parser.add_argument("--tune", action="store_true",
                        help="pick each method's setting by mean covering on train images")
    parser.add_argument("--limit-train", type=int, default=20,
                        help="train images used by --tune (the first N by id; default 20)")
    parser.add_argument("--json", type=Path, default=None, help="write every number here")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads (default 1: timings comparable between "
                             "machines, and no oversubscription when the cores are busy)")
    args = parser.parse_args(argv)
    for flag in ("limit", "limit_train", "threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1, got {value}")
    methods = parse_methods(args.methods)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    start = time.perf_counter()
    samples = load_split(args.data, args.split, args.limit)
    train = load_split(args.data, "train", args.limit_train) if args.tune else []
    if args.tune and args.split == "train":
        log("warning: reporting on train, the split --tune chose settings on; "
            "the scores are optimistic")
    log(f"{len(samples)} {args.split} images" +
        (f", tuning on {len(train)} train images" if args.tune else ""))

    results = {}
    with warnings.catch_warnings(), threadpool_limits(limits=args.threads):
        # Convergence and similar warnings from sklearn/skimage on hard images
        # are expected on natural photos and would drown the progress lines.
        warnings.simplefilter("ignore")
        for method in methods:
            spec = segcore.get_method(method)
            grid = []
            if args.tune:
                t = time.perf_counter()
                chosen, grid = tune(method, train, log)
                log(f"  {method}: chose {fmt_params(chosen)} in {time.perf_counter() - t:.0f} s")
            else:
                chosen = {}
            setting = {name: spec.resolve(chosen)[name] for name in GRIDS[method]}
            t = time.perf_counter()
            rows = evaluate(method, chosen, samples)
            summary = summarise(rows)
            log(f"{method}: covering {summary['covering']:.3f} on {args.split} "
                f"({time.perf_counter() - t:.0f} s)")
            results[method] = {"setting": setting, "params": spec.resolve(chosen),
                               "summary": summary, "per_image": rows, "grid": grid}
        human = human_agreement(samples)
    elapsed = time.perf_counter() - start

    mode = (f"settings tuned on the first {len(train)} train images (best mean covering, "
            "one setting for all images)" if args.tune else
            "registry defaults (the app's starting values), not tuned; --tune searches "
            "the 'setting' parameters")
    print(f"BSDS500 {args.split}, {len(samples)} images; {mode}. "
          "The 'setting' column shows the key parameters; every other parameter is at its "
          "registry default.\n")
    print(results_table(results, human))
    failed = {m: r["summary"]["failed"] for m, r in results.items() if r["summary"]["failed"]}
    if failed:
        print(f"\nfailed = images where the method raised ValueError, scored as one region: "
              f"{failed}")
    print("\nregions = distinct labels per image (a k-means or GMM cluster counts once "
          "however scattered); s / image = method time only, on this machine under its "
          "current load.")
    print(f"\n{reference_table()}")
    print(f"\ntotal run time {elapsed:.0f} s")

    if args.json is not None:
        report = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(["python -m benchmarks.bsds",
                                 *(sys.argv[1:] if argv is None else argv)]),
            "machine": platform.platform(),
            "split": args.split,
            "ids": [s.id for s in samples],
            "tuned": args.tune,
            "train_ids": [s.id for s in train],
            "grids": {m: {k: list(v) for k, v in GRIDS[m].items()} for m in methods},
            "methods": results,
            "human": human,
            "reference_test_split_from_paper": [
                dict(zip(("method", "cov_ods", "cov_ois", "cov_best", "pri_ods", "pri_ois",
                          "vi_ods", "vi_ois", "status"), row)) for row in REFERENCE],
            "run_time_s": elapsed,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, allow_nan=False,
                                        default=_jsonable) + "\n")
        log(f"wrote {args.json}")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


if __name__ == "__main__":
    main()
