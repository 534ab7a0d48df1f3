"""The ``segcore`` command line.

::

    segcore methods [--json]
    segcore run METHOD IMAGE [--set k=v ...] [--seed-point ROW,COL,LABEL ...] [-o labels.png]
                [--overlay overlay.png] [--json]
    segcore score PRED TRUTH [--match hungarian|majority|none] [--zero class|ignore] [--json]

Label and mask files follow :func:`segcore.io.load_mask`: a two-value mask is
classes 1 (background) and 2 (object); other gray values are kept as class ids.

Wrong arguments get a one-line message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


from segcore.io import ImageError, encode_labels_png, load_image, load_mask
from segcore.metrics import MATCHES
from segcore.registry import get_method, list_methods, segment
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
