"""BSDS500 region benchmark of segcore's unsupervised methods, at ODS and OIS.

Segmentation covering, probabilistic Rand index and variation of information
against the human segmentations, beside the published BSDS500 numbers.

    python -m benchmarks.bsds --data ../shared/data/bsds500 [--limit 20] [--limit-train 20]
        [--methods felzenszwalb,slic,...] [--out benchmarks/results] [--jobs 1]
        [--cache DIR] [--threads 1]

Every method with an entry in ``GRIDS`` (and registered in segcore) is run with
every setting of its grid on the first ``--limit-train`` TRAIN images and the
first ``--limit`` VAL images (sorted by id; ``--limit 100 --limit-train 200``
takes the whole splits), and scored as the benchmark defines it
(:mod:`segcore.benchmark`):

- ODS, one setting for the whole dataset: each measure's setting is the one with
  the best mean on TRAIN, and the number reported is that setting's mean on VAL
  (the paper picks it on the images it reports on, an oracle; that val-picked
  number is in the JSON as ``ods_oracle``);
- OIS, the best setting of each VAL image over the same sweep.

Each method's registry defaults (the app's starting values) are scored on val
too. Covering pools its counts over images as the BSDS code does; PRI and VI
are means over images; VI is in bits; label 0 in a segmentation covers nothing.
A method that raises ``ValueError`` on an image is scored as one region and
counted under "failed". The test split is not in the data folder and is never
touched. Writes ``bsds.json`` (the summaries), ``bsds-sweeps.json`` (every score of
every setting on every image), ``bsds.md`` (the tables, also printed) and ``bsds.png``
(the chart) to ``--out``.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import inspect
import itertools
import json
import platform
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from threadpoolctl import threadpool_limits

import segcore
from segcore import metrics
from segcore.benchmark import MEASURES, PUBLISHED, SweepScores, sweep_scores
from segcore.datasets import open_dataset

from benchmarks.chart import GRID, INK, MUTED, OURS, PEER

# The sweeps, declared as data: one or two parameters that decide how coarse the
# segmentation is, each with the registry default where it makes sense. A method
# registered in segcore takes part once it has an entry here.
GRIDS: dict[str, dict[str, tuple]] = {
    "felzenszwalb": {"scale": (100.0, 300.0, 1000.0, 3000.0), "min_size": (50, 200, 1000)},
    "slic": {"n_segments": (5, 10, 25, 50, 200), "compactness": (1.0, 3.0, 10.0, 30.0)},
    "kmeans": {"k": (2, 3, 4, 6, 8), "xy_weight": (0.0, 0.5, 1.0, 2.0)},
    "gmm": {"k": (2, 3, 4, 6)},
    "watershed": {"auto_markers": ("distance", "h-minima", "low-gradient"),
                  "h": (0.02, 0.05, 0.1, 0.2, 0.4)},
    "spectral": {"k": (2, 3, 4, 6, 8), "similarity_sigma": (0.05, 0.1, 0.3)},
    "merge": {"cut_level": (0.1, 0.13, 0.17, 0.22, 0.28), "colour_weight": (0.15, 0.3, 0.5)},
    "edges": {"edge_fraction": (0.05, 0.1, 0.2, 0.3), "sigma": (1.0, 2.0, 3.0, 4.0)},
    # Two regions at most, so it cannot score well on natural photos; kept as a
    # floor, with a small grid because each image takes one to two seconds.
    "chan_vese": {"mu": (0.1, 0.25, 0.5, 1.0)},
}

# Published BSDS500 region benchmark, TEST split (segcore.benchmark.PUBLISHED says whence).
# (method, Cov ODS, Cov OIS, Cov Best, PRI ODS, PRI OIS, VI ODS, VI OIS, status)
REFERENCE = tuple((name, *row) for name, row in PUBLISHED.items())
# The rows the issue asks to stand beside ours in the table and the chart.
SHOWN = ("gPb-owt-ucm", "Mean Shift", "Felz-Hutt")
LABELS = {"covering": "Covering ↑", "pri": "PRI ↑", "vi": "VI ↓"}
# The chart's default font has no arrows.
CHART_LABELS = {"covering": "Covering (higher is better)", "pri": "PRI (higher is better)",
                "vi": "VI, bits (lower is better)"}


def settings(grid: dict[str, tuple]) -> list[dict]:
    """Every combination of a grid, in the order the grid lists its values."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*grid.values())]


def fmt_params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items()) or "defaults"


def available_methods() -> list[str]:
    """The methods with a grid that segcore registers (a grid may arrive first)."""
    registered = {spec.name for spec in segcore.list_methods()}
    return [m for m in GRIDS if m in registered]


def parse_methods(text: str | None) -> list[str]:
    if text is None:
        return available_methods()
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in available_methods()]
    if unknown or not methods:
        raise SystemExit(f"unknown or unsupported method(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(available_methods())}")
    return methods


# ---------------------------------------------------------------- running


def _quiet(threads: int) -> None:
    """Each worker: one BLAS/OpenMP pool of ``threads``, and no warning chatter."""
    warnings.simplefilter("ignore")
    threadpool_limits(limits=threads)


def _jsonable_row(row: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in row.items()}


def _array_row(row: dict) -> dict:
    out = {m: np.asarray(row[m], np.float64) for m in MEASURES}
    out.update(regions=np.asarray(row["regions"], np.int64),
               seconds=np.array([np.nan if x is None else x for x in row["seconds"]], np.float64),
               failed=np.asarray(row["failed"], bool), pixels=int(row["pixels"]))
    return out


def cached_map(cache: Path | None, key: str, executor):
    """A ``map`` for :func:`segcore.benchmark.sweep_scores` that keeps each image's
    row in ``cache/<key>.jsonl`` and computes only the images not there yet."""

    def run(fn, items):
        done = {}
        path = None if cache is None else cache / f"{key}.jsonl"
        if path is not None and path.is_file():
            for line in path.read_text().splitlines():
                record = json.loads(line)
                done[record["name"]] = _array_row(record["row"])
        todo = [item for item in items if item.name not in done]
        computed = (executor.map if executor is not None else map)(fn, todo)
        fresh = iter(zip(todo, computed))
        for item in items:
            if item.name not in done:
                _, row = next(fresh)
                done[item.name] = row
                if path is not None:
                    with path.open("a") as fh:
                        fh.write(json.dumps({"name": item.name,
                                             "row": _jsonable_row(_nan_free(row))}) + "\n")
            yield done[item.name]

    return run


def _nan_free(row: dict) -> dict:
    return {**row, "seconds": [None if np.isnan(x) else float(x) for x in row["seconds"]]}


def cache_key(method: str, grid: list[dict], split: str) -> str:
    """Names a sweep's cache: the method, its settings, the split, and the source of
    the method's module (a changed method is not served old rows)."""
    source = Path(inspect.getfile(segcore.get_method(method).func)).read_bytes()
    text = json.dumps([method, grid, split, hashlib.sha1(source).hexdigest()], sort_keys=True)
    return f"{method}-{split}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


def sweep(method: str, grid: list[dict], items: list, split: str, *, cache, executor,
          log) -> SweepScores:
    t = time.perf_counter()
    step = max(1, len(items) // 5)

    def progress(fraction: float) -> None:
        done = round(fraction * len(items))
        if done % step == 0 or done == len(items):
            log(f"  {method} {split}: {done}/{len(items)} images x {len(grid)} settings, "
                f"{time.perf_counter() - t:.0f} s")

    mapper = cached_map(cache, cache_key(method, grid, split), executor)
    return sweep_scores(items, method, grid, progress=progress, map=mapper)


def human_agreement(items: list) -> dict:
    """Each annotator scored against the others on the same images (leave-one-out),
    averaged over annotators, then images: the ceiling the measures allow here."""
    per_image = []
    for item in items:
        scores = []
        for k, truth in enumerate(item.truths):
            others = item.truths[:k] + item.truths[k + 1:]
            scores.append((metrics.covering(truth, others),
                           metrics.probabilistic_rand_index(truth, others),
                           metrics.bsds_vi(truth, others),
                           int(np.count_nonzero(np.unique(truth)))))
        per_image.append(np.mean(scores, axis=0))
    cov, pri, vi, regions = np.mean(per_image, axis=0)
    return {"covering": float(cov), "pri": float(pri), "vi": float(vi),
            "regions": float(regions), "n_images": len(items)}


def evaluate(method: str, train: list, val: list, *, cache, executor, log) -> dict:
    """The sweep on both splits, the ODS settings picked on train, OIS on val, and
    the registry defaults on val."""
    spec = segcore.get_method(method)
    grid = settings(GRIDS[method])
    on_train = sweep(method, grid, train, "train", cache=cache, executor=executor, log=log)
    on_val = sweep(method, grid, val, "val", cache=cache, executor=executor, log=log)
    picked = on_train.ods_ois()
    chosen = {m: picked[m]["ods_setting"] for m in MEASURES}
    summary = on_val.summary(chosen)
    oracle = on_val.summary()
    defaults = spec.resolve({})
    index = next((i for i, s in enumerate(grid) if spec.resolve(s) == defaults), None)
    if index is None:
        at_defaults = sweep(method, [{}], val, "val", cache=cache, executor=executor,
                            log=log).at(0)
    else:
        at_defaults = on_val.at(index)
    return {
        "ods": {m: {**summary[m], "train_mean": picked[m]["ods"],
                    "val_regions": float(on_val.regions[chosen[m]].mean())}
                for m in MEASURES},
        "ois": {m: summary[m]["ois"] for m in MEASURES},
        "ods_oracle": {m: {"ods": oracle[m]["ods"], "params": oracle[m]["ods_params"]}
                       for m in MEASURES},
        "at_covering_setting": on_val.at(chosen["covering"]),
        "defaults": {"params": {k: defaults[k] for k in GRIDS[method]}, **at_defaults},
        "train_sweep": on_train.to_dict(),
        "val_sweep": on_val.to_dict(),
    }


# ---------------------------------------------------------------- reporting


def results_table(results: dict, human: dict) -> str:
    head = ("| method | ODS setting (picked on train) | Cov ODS | Cov OIS | PRI ODS | PRI OIS "
            "| VI ODS | VI OIS | regions | s / image | failed |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for name, r in results.items():
        ods, ois, at = r["ods"], r["ois"], r["at_covering_setting"]
        setting = fmt_params(ods["covering"]["ods_params"])
        others = [f"{LABELS[m].split()[0]}: {fmt_params(ods[m]['ods_params'])}"
                  for m in ("pri", "vi")
                  if ods[m]["ods_setting"] != ods["covering"]["ods_setting"]]
        if others:
            setting += " (" + "; ".join(others) + ")"
        seconds = "-" if at["seconds"] is None else f"{at['seconds']:.2f}"
        lines.append(
            f"| {name} | {setting} | {ods['covering']['ods']:.3f} | {ois['covering']:.3f} | "
            f"{ods['pri']['ods']:.3f} | {ois['pri']:.3f} | {ods['vi']['ods']:.3f} | "
            f"{ois['vi']:.3f} | {at['regions']:.1f} | {seconds} | {at['failed']} |")
    lines.append(f"| human (each annotator vs the others) | - | {human['covering']:.3f} | - | "
                 f"{human['pri']:.3f} | - | {human['vi']:.3f} | - | {human['regions']:.1f} "
                 f"| - | - |")
    for name, cov, cov_ois, _, pri, pri_ois, vi, vi_ois, status in REFERENCE:
        if name in SHOWN:
            lines.append(f"| *{name} (paper, test split, {status})* | - | {cov:.2f} | "
                         f"{cov_ois:.2f} | {pri:.2f} | {pri_ois:.2f} | {vi:.2f} | {vi_ois:.2f} "
                         f"| - | - | - |")
    return "\n".join(lines)


def defaults_table(results: dict) -> str:
    lines = ["| method | registry defaults | Covering ↑ | PRI ↑ | VI ↓ | regions |",
             "|---|---|---|---|---|---|"]
    for name, r in results.items():
        d = r["defaults"]
        lines.append(f"| {name} | {fmt_params(d['params'])} | {d['covering']:.3f} | "
                     f"{d['pri']:.3f} | {d['vi']:.3f} | {d['regions']:.1f} |")
    return "\n".join(lines)


def reference_table() -> str:
    lines = [
        "Published reference (Arbelaez et al. 2011, TPAMI, Table 2): BSDS500 TEST split, "
        "numbers from the paper, NOT measured here and not on the same images; their ODS "
        "was picked on the test images themselves.",
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


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def chart(results: dict, human: dict, path: Path, *, title: str) -> None:
    """One panel per measure: each method's ODS (filled) and OIS (ring) on val, the
    paper's rows (test split) in orange, the human agreement as a line."""
    names = list(results) + [f"{n} (paper)" for n, *_ in REFERENCE if n in SHOWN]
    row_h, label_w, panel_w, gap, top = 22, 190, 260, 30, 70
    width = label_w + (panel_w + gap) * len(MEASURES)
    height = top + row_h * len(names) + 40
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 8), title, fill=INK, font=_font(15))
    draw.text((12, 30), "filled dot: ODS (setting picked on train); ring: OIS (best per image); "
              "orange: published, test split; gray line: human agreement here",
              fill=MUTED, font=_font(12))
    for k, name in enumerate(names):
        draw.text((12, top + row_h * k + row_h / 2), name, fill=INK, font=_font(12), anchor="lm")
    ranges = {"covering": (0.2, 0.8), "pri": (0.5, 0.95), "vi": (0.5, 4.0)}
    for p, m in enumerate(MEASURES):
        x0 = label_w + (panel_w + gap) * p
        lo, hi = ranges[m]
        values = [v for r in results.values() for v in (r["ods"][m]["ods"], r["ois"][m])]
        lo, hi = min([lo, *values]), max([hi, *values])

        def px(v, x0=x0, lo=lo, hi=hi):
            return x0 + 10 + (panel_w - 30) * (v - lo) / (hi - lo)

        draw.text((x0 + 10, top - 18), CHART_LABELS[m], fill=INK, font=_font(13))
        bottom = top + row_h * len(names)
        for tick in np.linspace(lo, hi, 5):
            draw.line([(px(tick), top), (px(tick), bottom)], fill=GRID)
            draw.text((px(tick), bottom + 4), f"{tick:.2f}", fill=MUTED, font=_font(11),
                      anchor="mt")
        draw.line([(px(human[m]), top), (px(human[m]), bottom)], fill=MUTED, width=1)
        points = [(r["ods"][m]["ods"], r["ois"][m], OURS) for r in results.values()]
        column = {"covering": (1, 2), "pri": (4, 5), "vi": (6, 7)}[m]
        points += [(row[column[0]], row[column[1]], PEER) for row in REFERENCE
                   if row[0] in SHOWN]
        for k, (ods, ois, colour) in enumerate(points):
            y = top + row_h * k + row_h / 2
            draw.line([(px(ods), y), (px(ois), y)], fill=colour, width=1)
            draw.ellipse([px(ods) - 5, y - 5, px(ods) + 5, y + 5], fill=colour)
            draw.ellipse([px(ois) - 5, y - 5, px(ois) + 5, y + 5], outline=colour, width=2)
    image.save(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="the bsds500 folder (images/ and groundTruth/)")
    parser.add_argument("--limit", type=int, default=20,
                        help="val images to report on (the first N by id; default 20, "
                             "100 for the whole split)")
    parser.add_argument("--limit-train", type=int, default=20,
                        help="train images the ODS settings are picked on (the first N by "
                             "id; default 20, 200 for the whole split)")
    parser.add_argument("--methods", default=None,
                        help=f"comma-separated, from {','.join(available_methods())} "
                             "(default: all of them)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"),
                        help="where bsds.json, bsds.md and bsds.png go")
    parser.add_argument("--jobs", type=int, default=1,
                        help="images scored in parallel processes (default 1)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep every image's scores here and reuse them on the next run "
                             "(a method whose module changed is run again)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS/OpenMP threads per process (default 1)")
    args = parser.parse_args(argv)
    for flag in ("limit", "limit_train", "threads", "jobs"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1, "
                         f"got {getattr(args, flag)}")
    methods = parse_methods(args.methods)
    try:
        data = open_dataset(args.data, layout="bsds")
        train_set = data.with_split("train")
        val_set = data.with_split("val")
    except ValueError as err:
        parser.error(f"--data: {err}")

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    start = time.perf_counter()
    train = list(train_set.select(train_set.names[:args.limit_train]))
    val = list(val_set.select(val_set.names[:args.limit]))
    log(f"{len(train)} train images (ODS settings), {len(val)} val images (reported)")
    if args.cache is not None:
        args.cache.mkdir(parents=True, exist_ok=True)
    executor = (ProcessPoolExecutor(args.jobs, initializer=_quiet, initargs=(args.threads,))
                if args.jobs > 1 else None)
    results = {}
    try:
        with warnings.catch_warnings(), threadpool_limits(limits=args.threads):
            # Convergence and similar warnings from sklearn/skimage on hard images
            # are expected on natural photos and would drown the progress lines.
            warnings.simplefilter("ignore")
            for method in methods:
                t = time.perf_counter()
                results[method] = evaluate(method, train, val, cache=args.cache,
                                           executor=executor, log=log)
                ods = results[method]["ods"]["covering"]
                log(f"{method}: covering ODS {ods['ods']:.3f} on val "
                    f"({fmt_params(ods['ods_params'])}), OIS "
                    f"{results[method]['ois']['covering']:.3f} "
                    f"({time.perf_counter() - t:.0f} s)")
            human = human_agreement(val)
    finally:
        if executor is not None:
            executor.shutdown()
    elapsed = time.perf_counter() - start

    command = " ".join(["python -m benchmarks.bsds", *(sys.argv[1:] if argv is None else argv)])
    intro = (f"BSDS500 val, the first {len(val)} images by id; ODS settings picked on the "
             f"first {len(train)} train images, OIS over the same sweep on val. "
             f"Command: `{command}`")
    markdown = "\n\n".join([
        intro, results_table(results, human),
        "regions, s / image and failed are at covering's ODS setting (s / image: the "
        "method's own time on this machine under its load; failed: images where the method "
        "raised ValueError, scored as one region). The human row scores each annotator "
        "against the others on the same val images.",
        "Registry defaults (the app's starting values) on the same val images:",
        defaults_table(results), reference_table()])
    print(markdown)
    print(f"\ntotal run time {elapsed:.0f} s")

    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": command,
        "machine": platform.platform(),
        "val_ids": [item.name for item in val],
        "train_ids": [item.name for item in train],
        "grids": {m: {k: list(v) for k, v in GRIDS[m].items()} for m in methods},
        "methods": results,
        "human": human,
        "reference_test_split_from_paper": [
            dict(zip(("method", "cov_ods", "cov_ois", "cov_best", "pri_ods", "pri_ois",
                      "vi_ods", "vi_ois", "status"), row)) for row in REFERENCE],
        "run_time_s": elapsed,
    }
    # Every score of every setting on every image goes to a compact file of its own.
    sweeps = {m: {split: r.pop(f"{split}_sweep") for split in ("train", "val")}
              for m, r in results.items()}
    (args.out / "bsds.json").write_text(json.dumps(report, indent=1, allow_nan=False,
                                                   default=_jsonable) + "\n")
    (args.out / "bsds-sweeps.json").write_text(json.dumps(
        {"command": command, "sweeps": sweeps}, allow_nan=False, default=_jsonable) + "\n")
    (args.out / "bsds.md").write_text(markdown + "\n")
    chart(results, human, args.out / "bsds.png",
          title=f"BSDS500 val ({len(val)} images) against the published test-split numbers")
    log(f"wrote {args.out / 'bsds.json'}, bsds-sweeps.json, bsds.md and bsds.png")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


if __name__ == "__main__":
    main()
