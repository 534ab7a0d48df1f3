"""Speed of the shipped membrane U-Net on CPU: 512x512 in one piece, 2048x2048 in tiles.

Run from the repository root::

    python benchmarks/bench_unet.py            # 2 threads, median of 5 runs
    python benchmarks/bench_unet.py --threads 1 --repeat 3

Each size is timed four ways in the same run, so the ratios show what each measure buys:

- ``naive``: the same network called plainly (autograd on, contiguous NCHW memory), the
  way a first script would do it, with the same padding and tiling;
- ``no-grad``: ``torch.inference_mode`` only;
- ``channels-last``: ``channels_last`` memory layout only (autograd on);
- ``segcore``: :func:`segcore.nn.infer.predict` as the app runs it (both).

Targets from the issue: 512x512 at most 0.3 s, 2048x2048 tiled at most 6 s, on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import time

import numpy as np
import torch

from segcore.nn.infer import load_model, predict

TARGETS = {512: 0.3, 2048: 6.0}


def timed(fn, repeat: int) -> float:
    fn()  # warm-up: allocator, oneDNN primitive caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextlib.contextmanager
def without_inference_mode():
    """Make ``predict`` run with autograd on, as a naive caller would."""
    original = torch.inference_mode

    class _Off(contextlib.nullcontext):
        def __init__(self, *args, **kwargs):
            super().__init__()

    torch.inference_mode = _Off
    try:
        yield
    finally:
        torch.inference_mode = original


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--model", default="membrane")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    net, card = load_model(args.model)
    plain = copy.deepcopy(net)  # stays contiguous NCHW; predict converts `net` in place
    rng = np.random.default_rng(0)
    print(f"model {args.model} ({card.config}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, median of {args.repeat}")
    print(f"{'size':>10} {'tiles':>6} {'naive':>8} {'no-grad':>8} {'ch-last':>8} "
          f"{'segcore':>8} {'speed-up':>8} {'target':>7}")
    for side in (512, 2048):
        img = rng.random((side, side, card.config.in_channels)).astype(np.float32)
        count = []
        predict(img, net, card, progress=count.append)
        with without_inference_mode():
            naive = timed(lambda: predict(img, plain, card, channels_last=False), args.repeat)
            chl_net = copy.deepcopy(plain)
            chl = timed(lambda: predict(img, chl_net, card, channels_last=True), args.repeat)
        nograd = timed(lambda: predict(img, plain, card, channels_last=False), args.repeat)
        fast = timed(lambda: predict(img, net, card), args.repeat)
        ok = "ok" if fast <= TARGETS[side] else "MISSED"
        print(f"{side:>4}x{side:<5} {len(count):>6} {naive:8.3f} {nograd:8.3f} {chl:8.3f} "
              f"{fast:8.3f} {naive / fast:7.2f}x {TARGETS[side]:5.1f} s {ok}")


if __name__ == "__main__":
    main()
