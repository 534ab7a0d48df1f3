"""Pretrained U-Net: a convolutional network trained by the project (see ``models/``)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from segcore.registry import Param, Segmentation, register

#: The checkpoints shipped in ``models/`` (each ``NAME.pt`` beside its card ``NAME.json``).
BUILTIN_MODELS = ("membrane", "horse")


@register(
    "unet",
    label="U-Net (pretrained)",
    params=(
        Param("model", "choice", "membrane", choices=BUILTIN_MODELS, paths=True,
              help="membrane: gray electron-microscopy sections, classes membrane / cell. "
                   "horse: colour photos, classes background / horse. Or the path of your own "
                   "checkpoint (.pt) with its card beside it (same name, .json)."),
        Param("tile", "int", 512, low=64, high=4096, step=64,
              help="Images larger than this many pixels (at the model's working scale) are "
                   "predicted in overlapping tiles with blended seams; smaller tiles use less "
                   "memory."),
    ),
    seeds="none",
)
def unet(image: np.ndarray, *, model: str, tile: int,
         progress: Callable[[float], None] | None = None) -> Segmentation:
    """Label every pixel with the class a trained U-Net finds most probable.

    The model's card says how to feed it (channels, normalisation, working scale) and
    names its classes. A gray image given to a colour model is replicated to three
    channels; a colour image given to a gray model is reduced to its luminance.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    model : str
        ``"membrane"``, ``"horse"``, or the path of a checkpoint.
    tile : int
        Largest side predicted in one piece.
    progress : callable, optional
        ``progress(fraction)`` after each tile.

    Returns
    -------
    Segmentation
        ``labels`` ``(H, W) int32`` with class ids ``1..K`` in the card's order,
        ``probabilities`` the softmax ``(H, W, K) float32``; ``extras["classes"]`` names
        the classes (``classes[k - 1]`` is label ``k``), ``extras["model"]`` the model and
        ``extras["adapted"]`` how the channels were adapted, if they were.

    Examples
    --------
    >>> img = np.random.default_rng(0).random((40, 60, 1)).astype(np.float32)
    >>> seg = unet(img, model="membrane")
    >>> seg.labels.shape, seg.probabilities.shape, seg.extras["classes"]
    ((40, 60), (40, 60, 2), ['membrane', 'cell'])
    """
    # torch loads on the first U-Net call, so `import segcore` stays quick.
    from segcore.nn.infer import load_model, predict

    net, card = load_model(model)
    c, want = image.shape[2], card.config.in_channels
    adapted = None
    if c != want:
        adapted = f"{'gray' if c == 1 else 'rgb'} image -> {'rgb' if want == 3 else 'gray'} model"
    overlap = min(card.overlap, tile // 2 - 1)
    probs = predict(image, net, card, tile=tile, overlap=overlap, progress=progress)
    labels = probs.argmax(axis=2).astype(np.int32) + 1
    extras = {
        "classes": list(card.classes),
        "model": str(model),
        "adapted": adapted,
        "metrics": card.raw.get("metrics", {}),
    }
    return Segmentation(labels=labels, probabilities=probs, extras=extras)
