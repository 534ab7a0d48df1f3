"""The U-Net: architecture, inference on any size, safe checkpoint loading, shipped models."""

import functools
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from segcore import segment
from segcore.datasets import open_dataset
from segcore.nn import infer
from segcore.nn.infer import load_model, predict, read_card
from segcore.nn.models import (BUILTIN_MODELS, CONTOUR_MODEL, model_file, models_dir,
                               shipped_dir)
from segcore.nn.unet import UNet, UNetConfig


def small_net(seed=0, **kwargs) -> UNet:
    torch.manual_seed(seed)
    cfg = dict(in_channels=1, n_classes=2, depth=2, base=4)
    cfg.update(kwargs)
    net = UNet(**cfg).eval()
    # Non-trivial batch-norm statistics so eval mode is not the identity.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return net


def save_user_model(folder: Path, net: UNet, *, name="user", embed=False, classes=None) -> Path:
    card = {"architecture": net.config.to_dict(),
            "classes": classes or [f"c{k}" for k in range(net.config.n_classes)],
            "input": {"mean": [0.5] * net.config.in_channels, "std": [0.25] * net.config.in_channels}}
    path = folder / f"{name}.pt"
    if embed:
        torch.save({"config": card, "state_dict": net.state_dict()}, path)
    else:
        torch.save(net.state_dict(), path)
        path.with_suffix(".json").write_text(json.dumps(card))
    return path


@pytest.fixture
def image():
    return np.random.default_rng(0).random((37, 53, 1)).astype(np.float32)


# ---------------------------------------------------------------- architecture


def test_forward_keeps_size_and_rejects_sizes_it_cannot_halve():
    net = small_net(depth=3)
    assert net(torch.zeros(2, 1, 24, 40)).shape == (2, 2, 24, 40)
    with pytest.raises(ValueError, match="divisible by 8"):
        net(torch.zeros(1, 1, 20, 40))


@pytest.mark.parametrize("up", ["transpose", "bilinear"])
@pytest.mark.parametrize("skips", [True, False])
def test_return_features_gives_one_map_per_level(up, skips):
    net = small_net(depth=3, base=4, up=up, skips=skips)
    scores, feats = net(torch.zeros(1, 1, 32, 48), return_features=True)
    assert scores.shape == (1, 2, 32, 48)
    assert [tuple(f.shape[1:]) for f in feats["encoder"]] == [
        (4, 32, 48), (8, 16, 24), (16, 8, 12), (32, 4, 6)]
    assert [tuple(f.shape[1:]) for f in feats["decoder"]] == [(16, 8, 12), (8, 16, 24), (4, 32, 48)]
    assert torch.equal(net(torch.zeros(1, 1, 32, 48)), scores)


def test_skip_switch_changes_the_network_and_its_output():
    x = torch.from_numpy(np.random.default_rng(1).random((1, 1, 32, 32), np.float32))
    with_skips, without = small_net(seed=0, skips=True), small_net(seed=0, skips=False)
    # Without skips the decoder convs see only the upsampled map: half the input channels.
    assert with_skips.ups[-1].conv.block[0].in_channels == 8
    assert without.ups[-1].conv.block[0].in_channels == 4
    assert not torch.allclose(with_skips(x), without(x))
    # With skips the output depends on the encoder maps through them, not just the bottleneck.
    out = with_skips(x)
    _, feats = with_skips(x, return_features=True)
    blind = with_skips.ups[-1](feats["decoder"][-2], torch.zeros_like(feats["encoder"][0]))
    assert not torch.allclose(with_skips.outc(blind), out)


@pytest.mark.parametrize("up", ["transpose", "bilinear"])
def test_no_skip_switched_off_is_the_ordinary_forward_bit_for_bit(up):
    net = small_net(depth=3, up=up)
    x = torch.from_numpy(np.random.default_rng(3).random((2, 1, 24, 40), np.float32))
    plain, plain_feats = net(x, return_features=True)
    for fill in ("zeros", "mean"):
        scores, feats = net(x, return_features=True, skips_off=(), skip_fill=fill)
        assert torch.equal(scores, plain)
        for part in ("encoder", "decoder"):
            assert all(torch.equal(a, b) for a, b in zip(feats[part], plain_feats[part]))


@pytest.mark.parametrize("fill", ["zeros", "mean"])
def test_a_switched_off_skip_feeds_the_decoder_its_fill_level_by_level(fill):
    net = small_net(depth=3)
    x = torch.from_numpy(np.random.default_rng(4).random((1, 1, 32, 24), np.float32))
    _, feats = net(x, return_features=True)
    enc = feats["encoder"]
    for off in [(0,), (2,), (0, 1, 2)]:
        # The decoder run by hand, with the chosen levels' encoder maps replaced.
        y = enc[-1]
        for level, up in zip(reversed(range(3)), net.ups):
            skip = enc[level]
            if level in off:
                skip = (torch.zeros_like(skip) if fill == "zeros" else
                        skip.mean(dim=(2, 3), keepdim=True).expand_as(skip))
            y = up(y, skip)
        scores, got = net(x, return_features=True, skips_off=off, skip_fill=fill)
        assert torch.equal(scores, net.outc(y))
        assert all(torch.equal(a, b) for a, b in zip(got["encoder"], enc))  # the encoder's own
        assert not torch.equal(scores, net(x))


def test_switching_skips_off_is_validated():
    x = torch.zeros(1, 1, 16, 16)
    with pytest.raises(ValueError, match="levels 0..1"):
        small_net(depth=2)(x, skips_off=[2])
    with pytest.raises(ValueError, match="skip_fill"):
        small_net(depth=2)(x, skips_off=[0], skip_fill="noise")
    with pytest.raises(ValueError, match="no skip connections"):
        small_net(depth=2, skips=False)(x, skips_off=[0])
    assert small_net(depth=2, skips=False)(x, skips_off=()).shape == (1, 2, 16, 16)


def test_config_is_validated():
    with pytest.raises(ValueError, match="'up' must be 'transpose' or 'bilinear'"):
        UNetConfig(up="nearest")
    with pytest.raises(ValueError, match="unknown keys"):
        UNetConfig.from_dict({"depth": 2, "width": 8})
    with pytest.raises(ValueError, match="'dropout' must be in"):
        UNetConfig(dropout=1.0)


def test_dropout_acts_in_training_only_and_adds_no_weights():
    x = torch.from_numpy(np.random.default_rng(2).random((1, 1, 32, 32), np.float32))
    plain, dropped = small_net(seed=0), small_net(seed=0, dropout=0.5)
    assert plain.state_dict().keys() == dropped.state_dict().keys()
    assert torch.equal(plain(x), dropped(x))  # eval mode: identical
    dropped.train()
    torch.manual_seed(0)
    assert not torch.allclose(dropped(x), plain.train()(x))


# ---------------------------------------------------------------- inference


def test_odd_sizes_give_same_size_output(image):
    net = small_net()
    probs = predict(image, net, read_card(net.config.to_dict()))
    assert probs.shape == (37, 53, 2) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=2), 1, atol=1e-5)
    for shape in [(2, 2, 1), (17, 3, 1), (64, 48, 1)]:
        assert predict(np.zeros(shape, np.float32), net, read_card(net.config.to_dict())).shape \
            == shape[:2] + (2,)


def test_segment_with_odd_size_through_the_registry(tmp_path, image):
    path = save_user_model(tmp_path, small_net(), classes=["a", "b"])
    seg = segment(image, "unet", model=str(path))
    assert seg.labels.shape == (37, 53) and seg.labels.dtype == np.int32
    assert set(np.unique(seg.labels)) <= {1, 2}
    np.testing.assert_array_equal(seg.labels, seg.probabilities.argmax(axis=2) + 1)
    assert seg.extras["classes"] == ["a", "b"]


def test_tiled_equals_untiled_within_tolerance():
    net = small_net(depth=2, base=4)
    card = read_card(net.config.to_dict())
    img = np.random.default_rng(2).random((150, 130, 1)).astype(np.float32)
    fractions = []
    whole = predict(img, net, card, tile=512)
    tiled = predict(img, net, card, tile=64, overlap=24, progress=fractions.append)
    assert len(fractions) > 4 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    diff = np.abs(whole - tiled)
    assert diff.mean() < 2e-3 and diff.max() < 0.05
    assert np.mean(whole.argmax(2) == tiled.argmax(2)) > 0.995


def test_mirror_context_is_the_symmetric_extension_cropped_back():
    net = small_net(depth=2, base=4)
    plain = read_card(net.config.to_dict())
    card = read_card({**net.config.to_dict(), "inference": {"tile": 512, "mirror": 6}})
    img = np.random.default_rng(3).random((37, 53, 1)).astype(np.float32)
    out = predict(img, net, card)
    assert out.shape == (37, 53, 2)
    by_hand = predict(np.pad(img, ((6, 6), (6, 6), (0, 0)), mode="symmetric"), net, plain)
    assert np.allclose(out, by_hand[6:-6, 6:-6], atol=1e-5)
    # The context matters at the borders only, and is cut to images smaller than it.
    assert not np.allclose(out, predict(img, net, plain), atol=1e-3)
    tiny = np.random.default_rng(4).random((3, 5, 1)).astype(np.float32)
    assert predict(tiny, net, card).shape == (3, 5, 2)
    # Tiles with mirrored borders still agree with one pass.
    tiled = predict(np.tile(img, (3, 3, 1)), net, card, tile=64, overlap=24)
    whole = predict(np.tile(img, (3, 3, 1)), net, card)
    assert np.mean(tiled.argmax(2) == whole.argmax(2)) > 0.995
    with pytest.raises(ValueError, match="mirror must be 0 or more"):
        read_card({**net.config.to_dict(), "inference": {"mirror": -1}})


def test_progress_reaches_one_for_a_single_tile(tmp_path, image):
    path = save_user_model(tmp_path, small_net())
    fractions = []
    segment(image, "unet", model=str(path), progress=fractions.append)
    assert fractions == [1.0]


def test_models_are_cached(tmp_path):
    path = save_user_model(tmp_path, small_net())
    assert load_model(path)[0] is load_model(path)[0]


def test_embedded_config_checkpoint(tmp_path, image):
    net = small_net(seed=3)
    embedded = save_user_model(tmp_path, net, name="embedded", embed=True)
    beside = save_user_model(tmp_path, net, name="beside")
    a = segment(image, "unet", model=str(embedded))
    b = segment(image, "unet", model=str(beside))
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_gray_image_is_adapted_to_an_rgb_model_and_back(tmp_path, image):
    rgb_net = small_net(seed=4, in_channels=3)
    path = save_user_model(tmp_path, rgb_net, name="rgb")
    seg = segment(image, "unet", model=str(path))
    same = segment(np.repeat(image, 3, axis=2), "unet", model=str(path))
    np.testing.assert_array_equal(seg.probabilities, same.probabilities)
    assert seg.extras["adapted"] == "gray image -> rgb model"
    gray_path = save_user_model(tmp_path, small_net(seed=5), name="gray")
    colour = np.random.default_rng(6).random((20, 30, 3)).astype(np.float32)
    lum = (colour @ np.array([0.2125, 0.7154, 0.0721], np.float32))[:, :, None]
    np.testing.assert_allclose(segment(colour, "unet", model=str(gray_path)).probabilities,
                               segment(lum, "unet", model=str(gray_path)).probabilities, atol=1e-6)


def test_shipped_horse_model_takes_a_gray_image():
    img = np.random.default_rng(7).random((90, 120, 1)).astype(np.float32)
    seg = segment(img, "unet", model="horse")
    assert seg.labels.shape == (90, 120)
    assert seg.probabilities.shape == (90, 120, 2)
    assert seg.extras["classes"] == ["background", "horse"]


def test_predict_leaves_the_network_usable_with_autograd():
    # The lessons look at gradients of the same cached network the app predicts with.
    net = small_net()
    predict(np.zeros((16, 16, 1), np.float32), net, read_card(net.config.to_dict()))
    x = torch.zeros(1, 1, 16, 16, requires_grad=True)
    net(x).sum().backward()
    assert x.grad is not None


# ---------------------------------------------------------------- unsafe and unfit checkpoints


class _RunsCommand:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return os.system, (f"touch {self.target}",)


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_unsafe_pickle_is_refused_and_never_runs(tmp_path, image, writer):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"state_dict": _RunsCommand(target)}
    if writer == "torch":
        torch.save(payload, path)
    else:
        with open(path, "wb") as fh:
            pickle.dump(payload, fh)
    path.with_suffix(".json").write_text(json.dumps(small_net().config.to_dict()))
    with pytest.raises(ValueError, match="refused to load 'evil.pt'.*could run code"):
        segment(image, "unet", model=str(path))
    assert not target.exists()


def test_not_a_checkpoint_is_a_clear_error(tmp_path, image):
    path = tmp_path / "notes.pt"
    path.write_text("just text")
    with pytest.raises(ValueError, match="could not read 'notes.pt' as a PyTorch checkpoint"):
        segment(image, "unet", model=str(path))


def test_mismatched_checkpoint_names_what_was_expected(tmp_path, image):
    path = save_user_model(tmp_path, small_net(base=8), name="wide")
    card = json.loads(path.with_suffix(".json").read_text())
    card["architecture"]["base"] = 4
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"shape mismatch: 'inc.block.0.weight' expected "
                                         r"\(4, 1, 3, 3\), got \(8, 1, 3, 3\)"):
        segment(image, "unet", model=str(path))
    card["architecture"].update(base=8, depth=3)
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"depth=3.*missing keys \['downs.2.conv"):
        segment(image, "unet", model=str(path))


def test_a_truncated_checkpoint_is_refused_in_words(tmp_path, image):
    path = save_user_model(tmp_path, small_net())
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 100, 30):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="damaged or cut short"):
            segment(image, "unet", model=str(path))


def test_a_checkpoint_with_nan_weights_is_refused(tmp_path, image):
    net = small_net()
    with torch.no_grad():
        net.inc.block[0].weight[0, 0, 0, 0] = float("nan")
        net.outc.conv.bias[0] = float("inf")
    path = save_user_model(tmp_path, net)
    with pytest.raises(ValueError, match=r"not numbers \(NaN or infinite\) in \['inc.block.0.weight', "
                                         r"'outc.conv.bias'\].*diverged"):
        segment(image, "unet", model=str(path))


def test_a_huge_checkpoint_file_is_refused_before_it_is_read(tmp_path, image, monkeypatch):
    path = save_user_model(tmp_path, small_net())
    with open(path, "r+b") as fh:  # sparse: the size is real, the disk use is not
        fh.truncate(infer.MAX_CHECKPOINT_BYTES + 1)
    read = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: read.append(a))
    with pytest.raises(ValueError, match=r"'user.pt' is 200 MB; .* at most 200 MB"):
        segment(image, "unet", model=str(path))
    assert not read, "the file must be refused before torch reads it"


def test_a_card_describing_a_huge_network_is_refused_before_building_it(tmp_path, image):
    path = save_user_model(tmp_path, small_net())
    card = json.loads(path.with_suffix(".json").read_text())
    card["architecture"].update(base=4096, depth=8)  # trillions of weights if built
    path.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"describes a U-Net of [\d,]+ weights; .* at most 50,000,000"):
        segment(image, "unet", model=str(path))


def test_checkpoint_without_card_says_what_it_needs(tmp_path, image):
    path = tmp_path / "bare.pt"
    torch.save(small_net().state_dict(), path)
    with pytest.raises(ValueError, match="no model card: expected 'bare.json'"):
        segment(image, "unet", model=str(path))


def test_unknown_model_name(image):
    with pytest.raises(ValueError, match="must be one of .*membrane, horse or the path"):
        segment(image, "unet", model="zebra")


def test_shipped_models_are_package_data(monkeypatch):
    """The checkpoints and cards live in segcore/nn/models/, found via importlib.resources."""
    monkeypatch.delenv("SEGLAB_MODELS", raising=False)
    folder = Path(__file__).resolve().parents[1] / "segcore" / "nn" / "models"
    assert shipped_dir().resolve() == folder
    assert models_dir() == shipped_dir()
    for name in BUILTIN_MODELS + (CONTOUR_MODEL,):
        for suffix in (".pt", ".json"):
            assert model_file(name, suffix).resolve() == folder / f"{name}{suffix}"


def test_seglab_models_points_elsewhere(tmp_path, monkeypatch, image):
    """``SEGLAB_MODELS`` names a folder that replaces the shipped one."""
    for suffix in (".pt", ".json"):
        (tmp_path / f"membrane{suffix}").write_bytes(model_file("membrane", suffix).read_bytes())
    card = json.loads((tmp_path / "membrane.json").read_text())
    card["classes"] = ["wall", "inside"]
    (tmp_path / "membrane.json").write_text(json.dumps(card))
    monkeypatch.setenv("SEGLAB_MODELS", str(tmp_path))
    assert models_dir() == tmp_path
    assert segment(image, "unet", model="membrane").extras["classes"] == ["wall", "inside"]
    monkeypatch.setenv("SEGLAB_MODELS", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="shipped model 'membrane' is missing"):
        segment(image, "unet", model="membrane")


# ---------------------------------------------------------------- the shipped membrane model


@functools.lru_cache(maxsize=1)
def _held_out_scores(data: Path) -> dict:
    """Pixel error and IoUs of the shipped membrane model, pooled over slices 25-29."""
    wrong = total = 0
    inter = np.zeros(2)
    union = np.zeros(2)
    agreement = None
    for item in open_dataset(data, split="report"):  # slices 25-29, never trained on
        img, truth = item.image, item.truth
        labels = segment(img, "unet", model="membrane").labels
        wrong += int(np.count_nonzero(labels != truth))
        total += truth.size
        for c in (1, 2):
            inter[c - 1] += np.count_nonzero((labels == c) & (truth == c))
            union[c - 1] += np.count_nonzero((labels == c) | (truth == c))
        if item.name == "25":
            tiled = segment(img, "unet", model="membrane", tile=256).labels
            agreement = float(np.mean(tiled == labels))
    membrane_iou, cell_iou = inter / union
    return {"pixel_error": wrong / total, "cell_iou": cell_iou, "membrane_iou": membrane_iou,
            "tiled_agreement": agreement}


@pytest.mark.data
def test_shipped_membrane_model_reproduces_its_card_on_held_out_slices(membrane_data):
    claimed = load_model("membrane")[1].raw["metrics"]
    scores = _held_out_scores(membrane_data)
    for name in ("pixel_error", "cell_iou", "membrane_iou"):
        assert abs(scores[name] - claimed[name]) <= 0.005, name
    # Seams blended across 256-pixel tiles give (almost) the labels of one whole pass.
    assert scores["tiled_agreement"] > 0.995


@pytest.mark.data
def test_shipped_membrane_model_meets_the_cell_iou_target(membrane_data):
    assert _held_out_scores(membrane_data)["cell_iou"] >= 0.85


@pytest.mark.data
@pytest.mark.xfail(strict=True, reason="issue #3: the shipped membrane model's pixel error on "
                   "slices 25-29 (0.0734) is above the 0.07 target (models/README.md has every "
                   "run tried); strict, so a model that meets it turns this into a failure to "
                   "remove the mark")
def test_shipped_membrane_model_meets_the_pixel_error_target(membrane_data):
    assert _held_out_scores(membrane_data)["pixel_error"] <= 0.07

