"""Pretrained U-Net: a convolutional network trained by the project (see ``models/``)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from segcore.registry import FileChoice, Param, Segmentation, register

#: The checkpoints shipped in :mod:`segcore.nn.models` (each ``NAME.pt`` beside its card
#: ``NAME.json``); defined there, where reading it imports no method and no torch.
from segcore.nn.models import BUILTIN_MODELS  # noqa: E402


#: The model the default ``"auto"`` picks for an image with this many channels: a
#: colour photo gets the horse model, a gray picture the electron-microscopy model.
AUTO_MODEL = {3: "horse", 1: "membrane"}
_ABOUT = {"membrane": "gray electron-microscopy sections", "horse": "colour photos of horses"}


def chosen_model(model: str, image: np.ndarray) -> str:
    """The model ``"auto"`` stands for on ``image`` (any other value as it is).

    Examples
    --------
    >>> chosen_model("auto", np.zeros((4, 4, 3), np.float32)), chosen_model("membrane", None)
    ('horse', 'membrane')
    """
    return AUTO_MODEL[image.shape[2]] if model == "auto" else model


def _auto_note(image: np.ndarray) -> str:
    name = chosen_model("auto", image)
    kind = "a colour" if image.shape[2] == 3 else "a gray"
    return (f"Auto picked the {name} model ({_ABOUT[name]}) for {kind} image; a model only "
            "knows the kind of picture it was trained on.")


def _model_notes(image: np.ndarray, params: dict) -> list[str]:
    from segcore.nn.infer import load_model  # torch loads when a U-Net is asked for

    _, card = load_model(chosen_model(params["model"], image))
    notes = [_auto_note(image)] if params["model"] == "auto" else []
    return notes + ["Classes of this model: " + ", ".join(card.classes) + "."]


@register(
    "unet",
    label="U-Net (pretrained)",
    offers=("probabilities", "classes", "model_card"),
    settings_notes=_model_notes,
    params=(
        Param("model", "choice", "auto", label="Model", choices=("auto",) + BUILTIN_MODELS,
              file=FileChoice(
                  "Checkpoint (.pt)", ("pt", "pth"),
                  help="A checkpoint trained with models/train.py; its card is either inside "
                       "it or uploaded below.",
                  companion_label="Its card (.json), if not inside the checkpoint",
                  companion_types=("json",)),
              help="auto: horse for a colour image, membrane for a gray one. membrane: gray "
                   "electron-microscopy sections, classes membrane / cell. horse: colour "
                   "photos, classes background / horse. Or the path of your own checkpoint "
                   "(.pt) with its card beside it (same name, .json)."),
        Param("tile", "int", 512, label="Tile size (pixels)", low=64, high=4096, step=64,
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
        ``"auto"`` (the model that fits the image's channels, see :data:`AUTO_MODEL`),
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

    notes = [_auto_note(image)] if model == "auto" else []
    model = chosen_model(model, image)
    net, card = load_model(model)
    c, want = image.shape[2], card.config.in_channels
    adapted = None
    if c != want:
        adapted = f"{'gray' if c == 1 else 'rgb'} image -> {'rgb' if want == 3 else 'gray'} model"
        notes.append(f"Channels adapted for the model: {adapted}.")
    overlap = min(card.overlap, tile // 2 - 1)
    probs = predict(image, net, card, tile=tile, overlap=overlap, progress=progress)
    labels = probs.argmax(axis=2).astype(np.int32) + 1
    measured = card.raw.get("metrics", {})
    numbers = ", ".join(f"{k.replace('_', ' ').replace('iou', 'IoU')} {v:.3f}"
                        for k, v in measured.items()
                        if isinstance(v, (int, float)) and not isinstance(v, bool))
    if numbers:
        notes.append(f"Its model card measured, on {measured.get('split', 'held-out data')}: "
                     f"{numbers}.")
    extras = {
        "classes": list(card.classes),
        "model": str(model),
        "adapted": adapted,
        "card_metrics": measured,
    }
    return Segmentation(labels=labels, probabilities=probs, extras=extras, notes=tuple(notes))
