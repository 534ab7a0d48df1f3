"""The U-Net lesson: its numbers against torch (the layers run by hand, autograd, the
inference code), scipy, scikit-learn and segcore.metrics, and the page driven headless
(every control, every question, all three image choices)."""

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi
from scipy.stats import entropy as scipy_entropy
from skimage import data
from sklearn.metrics import jaccard_score
from torch.nn import functional as F

from conftest import assert_no_exception
from segcore import learn, samples, synthetic
from segcore.color import to_gray
from segcore.learn import unet
from segcore.nn.infer import load_model, normalise, predict, read_card
from segcore.nn.unet import UNet

PAGE = "pages/learn/unet.py"


def _net(seed=0, *, positive=False, **kwargs) -> UNet:
    """A small U-Net with random weights and non-trivial batch-norm statistics; with
    ``positive``, every weight and bias positive, so that no ReLU is ever off."""
    torch.manual_seed(seed)
    net = UNet(**{"in_channels": 1, "n_classes": 2, "depth": 2, "base": 4, **kwargs}).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                if positive:
                    m.running_mean.zero_()
        if positive:
            for p in net.parameters():
                p.abs_()
    return net


def _image(shape, seed=0, channels=1):
    return np.random.default_rng(seed).random(shape + (channels,)).astype(np.float32)


def _horse():
    image = data.horse().astype(np.float32)[:, :, None]
    return learn.small_copy(image, samples.skimage_truth("horse"), max_pixels=40_000)


# --------------------------------------------------------------------------- one pass


@pytest.mark.parametrize("model, image", [
    ("membrane", _image((37, 53))), ("horse", _image((90, 160), channels=3)),
    ("horse", _image((160, 70))),  # gray into the colour model
])
def test_the_lessons_pass_gives_predicts_probabilities(model, image):
    net, card = load_model(model)
    work, _ = unet.working_copy(image, None, card)
    run = unet.forward(net, card, work)
    np.testing.assert_allclose(run.probabilities, predict(work, net, card), atol=2e-5)


def test_the_working_copy_is_what_predict_resizes_to():
    net, card = load_model("horse")
    image, truth = _horse()
    work, work_truth = unet.working_copy(image, truth, card)
    assert max(work.shape[:2]) == card.max_side and work_truth.shape == work.shape[:2]
    # predict shrinks the image to the same size itself, then enlarges the answer back
    small = predict(work, net, card)
    back = F.interpolate(torch.from_numpy(small.transpose(2, 0, 1))[None], size=image.shape[:2],
                         mode="bilinear", align_corners=False)[0].numpy().transpose(1, 2, 0)
    assert np.abs(back - predict(image, net, card)).mean() < 0.01
    with pytest.raises(ValueError, match="working_copy"):
        unet.network_input(image, card)


def test_the_network_input_is_predicts_padding_and_knows_where_each_pixel_came_from():
    card = read_card({"in_channels": 1, "n_classes": 2, "depth": 3, "base": 2,
                      "input": {"mean": [0.25], "std": [0.5]}, "inference": {"mirror": 5}})
    image = _image((21, 30))
    inp = unet.network_input(image, card)
    assert inp.x.shape[-2] % 8 == 0 and inp.x.shape[-1] % 8 == 0
    inside = inp.x[0, 0, inp.top:inp.top + 21, inp.left:inp.left + 30].numpy()
    np.testing.assert_allclose(inside, (image[:, :, 0] - 0.25) / 0.5, rtol=1e-6)
    # every padded pixel copies the image pixel its sources name
    copied = (image[:, :, 0][np.ix_(inp.row_source, inp.col_source)] - 0.25) / 0.5
    np.testing.assert_allclose(inp.x[0, 0].numpy(), copied, rtol=1e-6)


@pytest.mark.parametrize("up", ["transpose", "bilinear"])
def test_the_feature_maps_are_the_layers_outputs_run_by_hand(up):
    net = _net(depth=3, up=up)
    card = read_card(net.config.to_dict())
    image = _image((37, 45), seed=1)
    run = unet.forward(net, card, image)
    inp = unet.network_input(image, card)
    with torch.no_grad():
        encoder = [net.inc.block(inp.x)]
        for down in net.downs:
            encoder.append(down.conv.block(F.max_pool2d(encoder[-1], 2)))
        y, decoder = encoder[-1], {}
        for level, up_block in zip(reversed(range(3)), net.ups):
            y = up_block.conv.block(torch.cat([encoder[level], up_block.up(y)], dim=1))
            decoder[level] = y
        scores = net.outc.conv(y)

    def cut(maps, level):  # the cells of a level that lie over the image
        f = 2**level
        rows = slice(inp.top // f, -(-(inp.top + 37) // f))
        cols = slice(inp.left // f, -(-(inp.left + 45) // f))
        return maps[0, :, rows, cols].numpy()

    for level in range(4):
        np.testing.assert_array_equal(run.encoder[level], cut(encoder[level], level))
    for level in range(3):
        np.testing.assert_array_equal(run.decoder[level], cut(decoder[level], level))
    probs = torch.softmax(scores, 1)[0, :, inp.top:inp.top + 37, inp.left:inp.left + 45]
    np.testing.assert_allclose(run.probabilities, probs.permute(1, 2, 0).numpy(), atol=1e-7)
    assert [lv.channels for lv in unet.levels(net.config)] == [4, 8, 16, 32, 16, 8, 4]
    for lv in unet.levels(net.config):
        assert unet.level_maps(run, lv).shape[0] == lv.channels


def test_skips_off_at_no_level_is_the_normal_pass_and_every_level_changes_it():
    net, card = load_model("membrane")
    image = synthetic.blobs((64, 64)).image
    normal = unet.forward(net, card, image)
    for fill in unet.SKIP_FILLS:
        same = unet.forward(net, card, image, skips_off=(), skip_fill=fill)
        np.testing.assert_array_equal(same.probabilities, normal.probabilities)
    masks = unet.skip_ablation(net, card, "membrane", image)
    np.testing.assert_array_equal(masks[()], unet.object_mask(normal.probabilities, card,
                                                              "membrane"))
    for off in [(0,), (1,), (2,), (3,)]:
        assert not np.array_equal(unet.forward(net, card, image, skips_off=off).probabilities,
                                  normal.probabilities)
    with pytest.raises(ValueError, match="skip_fill"):
        unet.skip_ablation(net, card, "membrane", image, skip_fill="noise")


def test_skips_bring_back_localisation_on_the_horse():
    net, card = load_model("horse")
    work, truth = unet.working_copy(*_horse(), card)
    objects = truth >= 2
    ious = {off: unet.iou(m, objects) for off, m in unet.skip_ablation(
        net, card, "horse", work).items()}
    assert ious[()] > 0.95
    assert ious[(0, 1, 2, 3)] < ious[()] - 0.2  # all off: the outline is lost
    assert all(ious[(lv,)] <= ious[()] + 1e-9 for lv in range(4))


def test_iou_is_scikit_learns():
    rng = np.random.default_rng(5)
    mask, objects = rng.random((30, 40)) > 0.5, rng.random((30, 40)) > 0.3
    assert unet.iou(mask, objects) == pytest.approx(jaccard_score(objects.ravel(), mask.ravel()))
    assert unet.object_shares(mask, objects) == pytest.approx(
        (mask[objects].mean(), mask[~objects].mean()))


# --------------------------------------------------------------------------- receptive field


@pytest.mark.parametrize("up", ["transpose", "bilinear"])
@pytest.mark.parametrize("shape, pixel", [((40, 52), (20, 26)), ((37, 29), (36, 1)),
                                          ((64, 48), (31, 33))])
def test_the_theoretical_field_is_the_support_of_the_gradient(up, shape, pixel):
    # With positive weights no ReLU is ever off; over many random inputs every max-pool
    # cell's winner takes its turn: the gradient reaches every pixel that can matter
    # (16 inputs were enough in every case here; 64 leave room).
    net = _net(up=up, positive=True, base=2)
    card = read_card({**net.config.to_dict(), "inference": {"mirror": 3}})
    image = torch.rand((64, 1) + shape, generator=torch.Generator().manual_seed(0),
                       requires_grad=True)
    x, top, left = unet._pad(normalise(image, card), card)
    net(x)[:, 1, top + pixel[0], left + pixel[1]].sum().backward()
    support = (image.grad.abs().sum(dim=(0, 1)) > 0).numpy()
    inp = unet.network_input(np.zeros(shape + (1,), np.float32), card)
    np.testing.assert_array_equal(unet.theoretical_field(net.config, inp, *pixel), support)


def test_the_gradient_of_the_shipped_model_stays_inside_its_field_and_matches_differences():
    net, card = load_model("membrane")
    image = synthetic.blobs((48, 48)).image
    g = unet.gradient_field(net, card, image, 20, 25)
    field = unet.theoretical_field(card.config, unet.network_input(image, card), 20, 25)
    assert g[~field].max(initial=0) == 0 and g[20, 25] > 0
    assert all(p.grad is None for p in net.parameters())  # the shared network is untouched
    # a colour image reaches the gray model through its luminance, whose weights add up to 1
    rgb = synthetic.colour_shapes((48, 64)).image
    gray = to_gray(rgb)[:, :, None]
    np.testing.assert_allclose(unet.gradient_field(net, card, rgb, 20, 25),
                               unet.gradient_field(net, card, gray, 20, 25), rtol=1e-3, atol=1e-7)
    small = _net(depth=2, base=4)
    small_card = read_card(small.config.to_dict())
    img = _image((24, 24), seed=2)
    g = unet.gradient_field(small, small_card, img, 12, 12)
    k = int(unet.forward(small, small_card, img).probabilities[12, 12].argmax())
    for r, c in zip(*np.unravel_index(np.argsort(g, axis=None)[-3:], g.shape)):
        logp = []
        for step in (-1e-3, 1e-3):
            moved = img.copy()
            moved[r, c, 0] += step
            logp.append(np.log(unet.forward(small, small_card, moved).probabilities[12, 12, k]))
        assert abs(logp[1] - logp[0]) / 2e-3 == pytest.approx(g[r, c], rel=0.05)


def test_the_field_width_is_the_encoders_plus_the_bottleneck_pixels_read():
    cfg = load_model("horse")[1].config
    width, terms = unet.encoder_field(cfg)
    assert width == 140 and terms == [4, 9, 18, 36, 72]
    for offset in range(16):
        wide, n = unet.field_width(cfg, offset)
        assert wide == width + 16 * (n - 1) and n in (4, 5)
    inp = unet.network_input(np.zeros((400, 400, 1), np.float32), load_model("membrane")[1])
    field = unet.theoretical_field(cfg, inp, 200, 190)
    assert field.sum(axis=0).max() == unet.field_width(cfg, inp.top + 200)[0]
    assert field.sum(axis=1).max() == unet.field_width(cfg, inp.left + 190)[0]


def test_mass_and_effective_radius():
    rng = np.random.default_rng(3)
    g = rng.random((31, 41))
    mass = unet.mass_within(g, 10, 30)
    assert mass[-1] == pytest.approx(1.0) and np.all(np.diff(mass) >= 0)
    r = unet.effective_radius(g, 10, 30)
    square = g[max(10 - r, 0):10 + r + 1, max(30 - r, 0):30 + r + 1].sum() / g.sum()
    smaller = g[max(11 - r, 0):10 + r, max(31 - r, 0):30 + r].sum() / g.sum()
    assert square >= 0.9 > smaller


# --------------------------------------------------------------------------- uncertainty


def test_entropy_is_scipys_in_bits():
    p = np.random.default_rng(4).dirichlet([1, 1, 1], size=(5, 6))
    p[0, 0] = [1, 0, 0]
    np.testing.assert_allclose(unet.entropy(p), scipy_entropy(p, base=2, axis=2), atol=1e-12)


def test_border_distance_and_bands_by_brute_force():
    objects = synthetic.blobs((40, 40)).truth >= 2
    d = unet.border_distance(objects)
    rr, cc = np.indices(objects.shape)
    for r, c in [(5, 5), (20, 17), (33, 2)]:
        other = ~objects if objects[r, c] else objects
        assert d[r, c] == pytest.approx(np.hypot(rr[other] - r, cc[other] - c).min())
    u = np.random.default_rng(0).random(objects.shape)
    stats = unet.uncertainty_at_borders(u, objects, 2)
    near = d <= 2
    assert stats["border"] == pytest.approx(u[near].mean())
    assert stats["inside"] == pytest.approx(u[~near & objects].mean())
    assert stats["uncertainty_share"] == pytest.approx(u[near].sum() / u.sum())
    curve = unet.uncertainty_by_distance(u, objects, longest=5)
    assert curve[0] == pytest.approx(u[ndi.binary_dilation(objects) ^ ndi.binary_erosion(
        objects, border_value=1)].mean())  # distance 1: the pixels next to the border


def test_uncertainty_concentrates_on_the_borders_of_the_horse():
    net, card = load_model("horse")
    work, truth = unet.working_copy(*_horse(), card)
    ent = unet.entropy(unet.forward(net, card, work).probabilities)
    stats = unet.uncertainty_at_borders(ent, truth >= 2, 2)
    assert stats["ratio"] > 5 and stats["uncertainty_share"] > 3 * stats["pixel_share"]
    assert unet.least_sure(stats) == "border"


def test_a_model_on_a_picture_not_made_for_it_is_sure_and_wrong():
    image, truth = _horse()
    net, card = load_model("membrane")
    probs = predict(image, net, card)
    assert unet.iou(unet.object_mask(probs, card, "membrane"), truth >= 2) < 0.3
    assert unet.sure_share(probs) > 0.6


def test_pictures_have_their_shapes_and_colours():
    maps = np.random.default_rng(0).random((5, 3, 4))
    grid = unet.channel_grid(maps, columns=2)
    assert grid.shape == (3 * 3 + 2, 2 * 4 + 1, 3)
    tile = grid[4:7, 5:9, 0]  # channel 3: second row, second column
    np.testing.assert_allclose(tile, (maps[3] - maps[3].min()) / np.ptp(maps[3]), rtol=1e-6)
    a = np.random.default_rng(1).random((6, 8))
    assert unet.likeness(a[None], a)[0] == pytest.approx(1.0)
    assert unet.likeness(-a[None] + 3, a) == pytest.approx((1.0, 0))


def test_likeness_is_numpys_correlation_with_the_cells_spread_over_the_image():
    net, card = load_model("membrane")
    image, _ = learn.small_copy(synthetic.blobs().image, None, max_pixels=9_000)
    run = unet.forward(net, card, image)
    answer = run.probabilities[..., 1]
    h, w = answer.shape
    for lv in unet.levels(card.config):
        maps = unet.level_maps(run, lv)
        rows = unet.cell_index(h, scale=lv.scale, start=run.origin[0])
        cols = unet.cell_index(w, scale=lv.scale, start=run.origin[1])
        big = maps[:, rows][:, :, cols].reshape(len(maps), -1).astype(np.float64)
        corr = [abs(np.corrcoef(f, answer.ravel())[0, 1]) if f.std() > 1e-9 else 0.0
                for f in big]
        got, best = unet.likeness(maps, answer, scale=lv.scale, origin=run.origin)
        assert got == pytest.approx(max(corr), abs=1e-9) and corr[best] == pytest.approx(got)


# --------------------------------------------------------------------------- the page


def _answer(at, question, value):
    guess = next(w for w in [*at.radio, *at.slider] if (w.key or "").startswith(question + ".")
                 and w.key.endswith(".guess"))
    guess.set_value(value if value is not None else guess.options[0]).run()
    at.button(key=f"{question}.reveal").click().run()
    assert_no_exception(at)


def _answer_all(at):
    _answer(at, "unet.levels", None)
    _answer(at, "unet.field", 200)
    _answer(at, "unet.skips", None)
    _answer(at, "unet.borders", "Along the borders")
    _answer(at, "unet.wrong", 80)


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    at = open_lesson(PAGE, sample=("generated", "shapes"))
    at.radio(key="learn.unet.image").set_value(choice).run()
    assert_no_exception(at)
    assert at.radio[1].key.startswith("learn.unet.model.")  # the first guess comes after
    _answer_all(at)
    from seglab.lesson import ANSWERS
    assert len(at.session_state[ANSWERS]) == 5
    notices = " ".join(e.value for e in at.info)
    assert notices.count("What to notice") == 5
    assert "below every skip on" in notices or "above every skip on" in notices
    latex = " ".join(e.value for e in at.latex)
    assert r"w_\text{enc}" in latex and r"\mathrm{IoU}" in latex and r"\log_2" in latex


def test_every_control_moves_without_an_exception(open_lesson):
    at = open_lesson(PAGE)
    _answer_all(at)
    model = next(r.key for r in at.radio if r.key.startswith("learn.unet.model."))
    for level in range(9):
        at.select_slider(key="learn.unet.level").set_value(level).run()
    row = next(s.key for s in at.slider if s.key.startswith("learn.unet.row."))
    col = next(s.key for s in at.slider if s.key.startswith("learn.unet.col."))
    at.slider(key=row).set_value(0).run()
    at.slider(key=col).set_value(159).run()
    assert_no_exception(at)
    assert "90% within" in " ".join(e.value for e in at.info)
    at.multiselect(key="learn.unet.off").set_value([0, 3]).run()
    assert "2 skips off" in " ".join(e.value for e in at.info)
    at.multiselect(key="learn.unet.off").set_value([]).run()
    at.radio(key="learn.unet.fill").set_value("mean").run()
    _answer(at, "unet.skips", None)  # another fill asks again
    at.slider(key="learn.unet.band").set_value(6).run()
    assert "Within 6 pixels of the border" in " ".join(e.value for e in at.info)
    assert any("works at 160 pixels" in c.value for c in at.caption)
    at.radio(key=model).set_value("membrane").run()
    assert_no_exception(at)
    _answer(at, "unet.levels", None)  # another network asks again
    assert not any("works at 160 pixels" in c.value for c in at.caption)


def test_your_image_without_truth_is_scored_against_the_networks_own_answer(open_lesson):
    at = open_lesson(PAGE, sample=("scikit-image", "camera"))
    at.radio(key="learn.unet.image").set_value("yours").run()
    _answer_all(at)
    infos = " ".join(e.value for e in at.info)
    assert "No ground truth here" in infos
    assert "IoU" not in " ".join(e.value for e in at.info if "softmax" in e.value)
