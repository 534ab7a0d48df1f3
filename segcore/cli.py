"""The ``segcore`` command line.

::

    segcore methods [--json]
    segcore run METHOD IMAGE [--set k=v ...] [--seed-point ROW,COL,LABEL ...] [-o labels.png]
                [--overlay overlay.png] [--json]
    segcore score PRED TRUTH [--match hungarian|majority|none] [--zero class|ignore] [--json]
    segcore sweep METHOD IMAGE [--param NAME[=V1,V2,...] ...] [--set k=v ...] [--truth MASK]
                [--points N] [--metric iou|dice|...] [--json]
    segcore batch METHOD INPUT_DIR_OR_GLOB -o OUT_DIR [--set k=v ...] [--truth TRUTH_DIR]
                [--jobs N] [--dask tcp://host:port]

Label and mask files follow :func:`segcore.io.load_mask`: a two-value mask is
classes 1 (background) and 2 (object); other gray values are kept as class ids.

``sweep`` runs a method over one or two of its parameters (chosen from its spec
when no ``--param`` is given) and prints a table, the best setting marked when
there is truth. ``batch`` segments every image of a folder (or a glob) into
``OUT_DIR``, with truth a CSV of per-image scores and a summary (see
:mod:`segcore.batch`); it shows progress on stderr, resumes where an earlier run
stopped, and exits 1 when some image failed, 130 when interrupted.

Wrong arguments get a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from segcore.io import ImageError, encode_labels_png, load_image, load_mask
from segcore.metrics import MATCHES
from segcore.registry import format_value, get_method, list_methods, segment
from segcore.sweep import METRICS
from segcore.snippet import jsonable


class _UsageError(Exception):
    """A wrong argument: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and exit 2; keep it to one clear line
        raise _UsageError(message)


def _parse_set(items: list[str]) -> dict:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _UsageError(f"--set expects NAME=VALUE, got {item!r}")
        params[key.strip()] = value.strip()
    return params


def _parse_seed(text: str) -> tuple[int, int, int]:
    try:
        r, c, lab = (int(v) for v in text.split(","))
    except ValueError:
        raise _UsageError(f"--seed-point expects ROW,COL,LABEL (whole numbers), got {text!r}") from None
    return r, c, lab


def _cmd_methods(args) -> int:
    specs = list_methods()
    if args.json:
        out = [{"name": m.name, "label": m.label, "description": m.description, "seeds": m.seeds,
                "gray_only": m.gray_only, "offers": list(m.offers),
                "params": [{"name": p.name, "label": p.label, "kind": p.kind,
                            "default": p.default, "low": p.low, "high": p.high,
                            "choices": list(p.choices), "log": p.log, "help": p.help,
                            "file": p.file is not None}
                           for p in m.params]} for m in specs]
        print(json.dumps(out, indent=2))
        return 0
    for m in specs:
        seeds = {"none": "", "optional": "  [seeds optional]", "required": "  [needs seeds]"}[m.seeds]
        print(f"{m.name}: {m.label}{seeds}")
        for p in m.params:
            if p.kind == "choice":
                rng = "{" + ", ".join(map(str, p.choices)) + "}" + (" or a file path" if p.file else "")
            elif p.kind == "bool":
                rng = "true/false"
            else:
                rng = f"[{p.low:g}, {p.high:g}]" + (" log" if p.log else "")
            only = f"  (only with {p.when[0]} = {'/'.join(map(str, p.when[1]))})" if p.when else ""
            print(f"    {p.name:<18} {p.label:<38} {p.kind:<6} default {p.default!s:<10} "
                  f"{rng}{only}")
    return 0


def _cmd_run(args) -> int:
    get_method(args.method)  # unknown method: a clear message before the image is read
    image = load_image(args.image)
    seeds = [_parse_seed(s) for s in args.seed_point] or None
    seg = segment(image, args.method, seeds=seeds, **_parse_set(args.set))
    if args.output:
        Path(args.output).write_bytes(encode_labels_png(seg.labels))
    if args.overlay:
        from PIL import Image

        from segcore.viz import overlay, to_uint8
        Image.fromarray(to_uint8(overlay(image, seg.labels))).save(args.overlay)
    summary = {"method": seg.method, "params": seg.params, "n_regions": seg.n_regions,
               "shape": list(seg.labels.shape), "elapsed_s": round(seg.elapsed_s, 4),
               "extras": {k: v for k, v in seg.extras.items() if k != "history"}}
    if args.json:
        print(json.dumps(jsonable(summary), indent=2))
    else:
        print(f"{seg.method}: {seg.n_regions} regions in {seg.elapsed_s:.3f} s "
              f"({', '.join(f'{k}={v}' for k, v in seg.params.items())})")
        if args.output:
            print(f"labels written to {args.output}")
        if args.overlay:
            print(f"overlay written to {args.overlay}")
    return 0


def _cmd_score(args) -> int:
    from segcore.metrics import score

    pred, _, _ = load_mask(args.pred)
    truth, ignore, note = load_mask(args.truth, shape=pred.shape, zero=args.zero)
    result = score(pred, truth, match=args.match, ignore=ignore)
    if args.json:
        print(json.dumps(jsonable(result), indent=2))
        return 0
    print(f"truth: {note}")
    print(f"IoU {result['iou']:.4f}  Dice {result['dice']:.4f}  precision {result['precision']:.4f}  "
          f"recall {result['recall']:.4f}  accuracy {result['accuracy']:.4f}")
    for cls, row in result["per_class"].items():
        print(f"  class {cls}: IoU {row['iou']:.4f}  Dice {row['dice']:.4f}  "
              f"precision {row['precision']:.4f}  recall {row['recall']:.4f}")
    return 0


def _parse_params(items: list[str]) -> dict:
    axes = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not name:
            raise _UsageError(f"--param expects NAME or NAME=V1,V2,..., got {item!r}")
        axes[name] = [v.strip() for v in text.split(",") if v.strip()] if sep else None
        if sep and not axes[name]:
            raise _UsageError(f"--param {name}= gives no values")
    return axes


def _cmd_sweep(args) -> int:
    from segcore.sweep import Grid, default_grid, marks, sweep

    spec = get_method(args.method)
    asked = _parse_params(args.param)
    grid = default_grid(spec.name, list(asked) or None, points=args.points)
    grid = Grid({n: (asked.get(n) or v) for n, v in grid.axes.items()}, grid.fixed)
    image = load_image(args.image)
    truth, ignore = None, None
    if args.truth:
        truth, ignore, _ = load_mask(args.truth, shape=image.shape[:2], zero=args.zero)
    seeds = [_parse_seed(s) for s in args.seed_point] or None
    base = _parse_set(args.set)
    found = sweep(image, spec.name, grid, params=base, seeds=seeds, truth=truth, ignore=ignore,
                  metric=args.metric, keep_labels=False)
    names = list(found.axes)
    landings = (marks(image, spec.name, names[0], params={**base, **grid.fixed}, seeds=seeds,
                      truth=truth, ignore=ignore, metric=args.metric)
                if len(names) == 1 else [])
    best = found.best
    if args.json:
        print(json.dumps(jsonable({
            "method": found.method, "axes": found.axes, "fixed": grid.fixed,
            "metric": found.metric, "elapsed_s": round(found.elapsed_s, 4),
            "best": next((i for i, o in enumerate(found.outcomes) if o is best), None),
            "outcomes": [{"params": o.params, "scores": o.scores, "regions": o.n_regions,
                          "seconds": round(o.seconds, 4), "error": o.error}
                         for o in found.outcomes],
            "marks": [{"name": m.name, "value": m.value, "params": m.params, "scores": m.scores,
                       "error": m.error} for m in landings]}), indent=2))
        return 0
    _print_sweep(found, grid.fixed, landings)
    return 0


def _print_sweep(found, fixed: dict, landings: list) -> None:
    names = list(found.axes)
    shown = [] if found.metric is None else [found.metric, "dice" if found.metric != "dice"
                                             else "iou"]
    head = [*names, *shown, "regions", "seconds"]
    cells = [[format_value(o.params[n]) for n in names]
             + ([] if o.error else [*(f"{o.scores[m]:.4f}" for m in shown), str(o.n_regions),
                                    f"{o.seconds:.3f}"])
             for o in found.outcomes]
    widths = [max(len(row[i]) for row in [head, *cells] if i < len(row))
              for i in range(len(head))]

    def line(row: list) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths))

    setting = ", ".join(f"{k}={format_value(v)}" for k, v in fixed.items())
    print(f"{found.method}: {len(found.outcomes)} settings in {found.elapsed_s:.2f} s"
          + (f" ({setting})" if setting else ""))
    print(line(head).rstrip())
    for o, row in zip(found.outcomes, cells):
        text = line(row) + (f"  error: {o.error}" if o.error else "")
        print(f"{text}  <- best" if o is found.best else text.rstrip())
    if landings:
        print(f"automatic choices on the {names[0]} axis:")
        for m in landings:
            where = f"{names[0]} {format_value(m.value)}" if m.value is not None else ""
            score = f"  {found.metric} {m.scores[found.metric]:.4f}" if m.scores else ""
            error = f"no answer: {m.error}" if m.error else ""
            print(f"  {m.name:<12} {where}{score}{'  ' if where and error else ''}{error}")


class _Bar:
    """A progress bar on stderr: count/total, elapsed time and the time left; redrawn
    in place on a terminal, a line every tenth of the way otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.start = time.monotonic()
        self.first = self.done = self.total = 0
        self.shown = -1

    def __call__(self, done: int, total: int, row: dict | None) -> None:
        if row is None:
            self.first, self.done, self.total = done, done, total
            if done:
                print(f"{done} of {total} images already done (an earlier run); going on",
                      file=self.stream)
        else:
            self.done = done
            if row.get("error"):
                self._clear()
                print(f"segcore: {row['image']}: {row['error']}", file=self.stream)
        self._draw()

    def _clear(self) -> None:
        if self.tty:
            print("\r\033[K", end="", file=self.stream)

    def _draw(self) -> None:
        done, total = self.done, max(self.total, 1)
        step = done * 10 // total
        if not self.tty and step == self.shown and done < self.total:
            return
        self.shown = step
        elapsed = time.monotonic() - self.start
        ran = done - self.first
        eta = _clock(elapsed / ran * (self.total - done)) if ran else "?"
        fill = 24 * done // total
        text = (f"[{'#' * fill}{'.' * (24 - fill)}] {done}/{self.total}  "
                f"elapsed {_clock(elapsed)}  ETA {eta}")
        print(("\r" + text) if self.tty else text, end="" if self.tty else "\n",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            print(file=self.stream)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _cmd_batch(args) -> int:
    from segcore.batch import SCORES, batch

    get_method(args.method)
    if args.jobs is not None and args.jobs < 1:
        raise _UsageError(f"--jobs must be at least 1, got {args.jobs}")
    bar = _Bar()
    try:
        result = batch(args.method, args.input, args.output, params=_parse_set(args.set),
                       truth_dir=args.truth, zero=args.zero, jobs=args.jobs, dask=args.dask,
                       progress=bar)
    except KeyboardInterrupt:
        bar.close()
        print(f"segcore: interrupted with {bar.done} of {bar.total} images done; run the same "
              "command again to go on", file=sys.stderr)
        return 130
    bar.close()
    s = result.summary
    print(f"{s['method']}: {s['images']} images, {s['ok']} done, {s['failed']} failed"
          + (f", {s['resumed']} from an earlier run" if s["resumed"] else ""))
    for name in (*SCORES, "seconds"):
        if name in s and s[name]["mean"] is not None:
            print(f"  {name:<10} mean {s[name]['mean']:.4f}  median {s[name]['median']:.4f}")
    if s.get("unscored"):
        print(f"  {s['unscored']} images had no truth file of the same stem")
    print(f"labels, metrics.csv and summary.json in {result.out_dir}")
    return 1 if s["failed"] else 0


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="segcore", description="Image segmentation from the command line.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    p = sub.add_parser("methods", help="list methods with their parameters and ranges")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_methods)
    p = sub.add_parser("run", help="segment an image")
    p.add_argument("method")
    p.add_argument("image")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a method parameter; repeat for several")
    p.add_argument("--seed-point", action="append", default=[], metavar="ROW,COL,LABEL",
                   help="a seed for methods that take seeds; repeat for several")
    p.add_argument("-o", "--output", metavar="LABELS.png", help="write the labels (16-bit PNG past 255 labels)")
    p.add_argument("--overlay", metavar="OVERLAY.png", help="write the labels over the image")
    p.add_argument("--json", action="store_true", help="print the result summary as JSON")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("score", help="score a label image against the truth")
    p.add_argument("pred")
    p.add_argument("truth")
    p.add_argument("--match", choices=MATCHES, default=MATCHES[0],
                   help="hungarian (default): pair each label with one truth class first; "
                        "majority: rename each label to the class it overlaps most; none: "
                        "compare label values as they are")
    p.add_argument("--zero", choices=("class", "ignore"), default="class",
                   help="in a label truth, is 0 a class or unlabelled pixels to leave out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_score)
    p = sub.add_parser("sweep", help="run a method over one or two of its parameters")
    p.add_argument("method")
    p.add_argument("image")
    p.add_argument("--param", action="append", default=[], metavar="NAME[=V1,V2,...]",
                   help="a parameter to sweep, with its values or over its range; at most two "
                        "(default: the method's main parameter)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="another parameter, kept fixed; repeat for several")
    p.add_argument("--seed-point", action="append", default=[], metavar="ROW,COL,LABEL",
                   help="a seed for methods that take seeds; repeat for several")
    p.add_argument("--points", type=int, default=9, help="values per numeric parameter")
    p.add_argument("--truth", metavar="MASK", help="score each setting against this mask")
    p.add_argument("--metric", choices=METRICS, default="iou", help="what 'best' means")
    p.add_argument("--zero", choices=("class", "ignore"), default="class",
                   help="in a label truth, is 0 a class or unlabelled pixels to leave out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_sweep)
    p = sub.add_parser("batch", help="segment every image of a folder, scored against truth")
    p.add_argument("method")
    p.add_argument("input", metavar="INPUT_DIR_OR_GLOB")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR",
                   help="where the label images, metrics.csv and summary.json go")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a method parameter; repeat for several")
    p.add_argument("--truth", metavar="TRUTH_DIR",
                   help="truth masks, matched by file stem (001.jpg gets 001.png)")
    p.add_argument("--zero", choices=("class", "ignore"), default="class",
                   help="in a label truth, is 0 a class or unlabelled pixels to leave out")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="processes on this machine (default: one per core)")
    p.add_argument("--dask", metavar="tcp://host:port",
                   help="run on this Dask scheduler's workers instead (pip install "
                        "'seglab[cluster]')")
    p.set_defaults(func=_cmd_batch)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 fine, 2 wrong arguments or input).

    Examples
    --------
    >>> main(["run", "no-such-method", "x.png"])
    2
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return args.func(args)
    except (_UsageError, ImageError, ValueError) as err:
        print(f"segcore: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. an output folder that does not exist
        print(f"segcore: error: {err.strerror or err}: {getattr(err, 'filename', '') or ''}".rstrip(": "),
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
