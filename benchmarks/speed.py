"""Speed of segcore against the library each piece wraps or competes with,
measured in the same run, reported as ratios (ours / peer; below 1 is faster).

    python -m benchmarks.speed [--size 512] [--repeat 5]

Nothing here is a test: timings depend on the machine; the ratios are what to
compare between runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment  # noqa: F401  (imported so its cost is not timed)
from skimage import filters, metrics as skmetrics, segmentation
from sklearn import metrics as skl
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

import segcore
from segcore import metrics, synthetic


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def cases(image, gray, truth, pred):
    """(name, ours, peer) triples; both sides do the same job on the same input."""
    markers = np.zeros(gray.shape, np.int32)
    markers[5, 5], markers[-5, -5] = 1, 2
    x = gray.reshape(-1, 1).astype(np.float64)
    return [
        ("threshold otsu", lambda: segcore.segment(image, "threshold", algorithm="otsu"),
         lambda: gray > filters.threshold_otsu(gray)),
        ("slic 200", lambda: segcore.segment(image, "slic", space="gray", n_segments=200),
         lambda: segmentation.slic(gray, n_segments=200, compactness=0.1, sigma=1.0,
                                   channel_axis=None, start_label=1)),
        ("felzenszwalb", lambda: segcore.segment(image, "felzenszwalb", space="gray"),
         lambda: segmentation.felzenszwalb(gray, scale=100, sigma=0.8, min_size=50)),
        ("watershed (2 seeds)", lambda: segcore.segment(image, "watershed", seeds=markers),
         lambda: segmentation.watershed(filters.sobel(filters.gaussian(gray, 1.0)), markers)),
        ("kmeans k=3 (vs sklearn, 1 init)", lambda: segcore.segment(image, "kmeans", k=3, space="gray"),
         lambda: KMeans(3, n_init=1, random_state=0).fit(x).labels_),
        ("gmm k=3 (vs sklearn)", lambda: segcore.segment(image, "gmm", k=3, space="gray"),
         lambda: GaussianMixture(3, random_state=0).fit(x).predict_proba(x)),
        ("score (vs sklearn jaccard+f1+precision+recall)",
         lambda: metrics.score(pred, truth),
         lambda: [f(truth.ravel(), pred.ravel(), average="macro") for f in
                  (skl.jaccard_score, skl.f1_score, skl.precision_score, skl.recall_score)]),
        ("rand_index (vs sklearn rand_score)", lambda: metrics.rand_index(pred, truth),
         lambda: skl.rand_score(truth.ravel(), pred.ravel())),
        ("variation_of_information (vs skimage)", lambda: metrics.variation_of_information(pred, truth),
         lambda: skmetrics.variation_of_information(truth, pred)),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sample = synthetic.noisy((args.size, args.size), sigma=0.1)
    image, gray, truth = sample.image, sample.image[:, :, 0], sample.truth
    pred = segcore.segment(image, "threshold").labels
    print(f"{args.size}x{args.size} image, best of {args.repeat}\n")
    print(f"{'case':<50} {'ours s':>9} {'peer s':>9} {'ratio':>7}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, ours, peer in cases(image, gray, truth, pred):
            ours(), peer()  # warm caches and imports
            a, b = best_of(ours, args.repeat), best_of(peer, args.repeat)
            print(f"{name:<50} {a:9.4f} {b:9.4f} {a / b:7.2f}")


if __name__ == "__main__":
    main()
