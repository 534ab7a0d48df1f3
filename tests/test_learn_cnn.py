"""The CNN lesson: every operation against torch.nn.functional, the parameter counts
against torch's layers, receptive fields against torch's autograd, the U-Net's feature
maps against the network's own prediction, and the page driven headless (every
control, every question, all three image choices)."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from conftest import assert_no_exception
from segcore.learn import cnn
from segcore.nn.infer import load_model, predict

PAGE = "pages/learn/cnn.py"


def _t(x):
    return torch.tensor(np.asarray(x, np.float64))[None, None]


def _n(t):
    return t[0, 0].detach().numpy()


@pytest.fixture
def feature_map():
    """A map like a U-Net's after a ReLU: positive values and many exact zeros (ties)."""
    rng = np.random.default_rng(3)
    return np.maximum(rng.normal(0, 1, (13, 18)), 0)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("c_in, c_out, k, h, w", [(1, 1, 1, 4, 5), (3, 16, 3, 12, 9),
                                                  (3, 7, 5, 6, 6)])
def test_parameter_counts_are_torchs(c_in, c_out, k, h, w):
    conv = nn.Conv2d(c_in, c_out, k)
    dense = nn.Linear(h * w * c_in, h * w * c_out)
    assert cnn.conv_parameters(c_in, c_out, k) == sum(p.numel() for p in conv.parameters())
    assert cnn.dense_parameters(h, w, c_in, c_out) == sum(p.numel() for p in dense.parameters())
    assert cnn.conv_parameters(c_in, c_out, k, bias=False) == conv.weight.numel()
    assert cnn.torch_parameters(h, w, c_in, c_out, k) == {
        "conv": cnn.conv_parameters(c_in, c_out, k),
        "dense": cnn.dense_parameters(h, w, c_in, c_out)}


def test_a_dense_layer_for_a_lesson_image_is_counted_without_storing_it():
    counts = cnn.torch_parameters(300, 300, 3, 16, 3)  # about 3.9e11 weights, on "meta"
    expected = 270_000 * 1_440_000 + 1_440_000
    assert counts["dense"] == cnn.dense_parameters(300, 300, 3, 16) == expected
    assert cnn.memory_text(counts["dense"]) == "1.6 TB"
    with pytest.raises(ValueError, match="positive whole number"):
        cnn.conv_parameters(0, 16, 3)


def test_the_unets_first_convolution_has_the_count_the_lesson_gives():
    net, _ = load_model("horse")
    first = net.inc.block[0]
    assert first.weight.numel() == cnn.conv_parameters(3, 16, 3, bias=False)


# --------------------------------------------------------------------------- pooling, upsampling


def test_pooled_sizes_follow_torchs_max_pool():
    x = torch.zeros(1, 1, 107, 75)
    for size_h, size_w in zip(cnn.pooled_sizes(107, 4), cnn.pooled_sizes(75, 4)):
        assert tuple(x.shape[-2:]) == (size_h, size_w)
        x = F.max_pool2d(x, 2)


@pytest.mark.parametrize("shape", [(13, 18), (8, 8), (2, 3)])
def test_max_pool_and_unpool_are_torchs_ties_included(feature_map, shape):
    x = feature_map[:shape[0], :shape[1]]
    pooled, indices = cnn.max_pool(x)
    t_pooled, t_indices = F.max_pool2d(_t(x), 2, return_indices=True)
    assert np.array_equal(pooled, _n(t_pooled))
    assert np.array_equal(indices, t_indices[0, 0].numpy())
    even = (2 * pooled.shape[0], 2 * pooled.shape[1])
    assert np.array_equal(cnn.max_unpool(pooled, indices, x.shape),
                          _n(F.max_unpool2d(t_pooled, t_indices, 2, output_size=x.shape)))
    back = cnn.upsample(pooled, "max-unpooling", indices=cnn.max_pool(x[:even[0], :even[1]])[1])
    assert back.shape == even


def test_nearest_and_bilinear_are_torchs_interpolate(feature_map):
    t = _t(feature_map)
    assert np.array_equal(cnn.upsample_nearest(feature_map),
                          _n(F.interpolate(t, scale_factor=2, mode="nearest")))
    for size in [(26, 36), (7, 31), (40, 5), (13, 18)]:
        expected = _n(F.interpolate(t, size=size, mode="bilinear", align_corners=False))
        assert np.allclose(cnn.upsample_bilinear(feature_map, size), expected, atol=1e-12), size
    assert np.allclose(cnn.upsample(feature_map, "bilinear"),
                       _n(F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)))
    doubled = cnn.upsample_bilinear(feature_map, (26, 36))
    for i, j in [(0, 0), (5, 9), (11, 16)]:
        terms, value = cnn.bilinear_at(feature_map, i, j)
        assert value == pytest.approx(doubled[2 * i + 1, 2 * j + 1])
        assert sum(w for w, _ in terms) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="needs a row and a column after it"):
        cnn.bilinear_at(feature_map, 12, 0)


@pytest.mark.parametrize("k, s, p, op", [(3, 2, 0, 0), (3, 2, 1, 1), (2, 2, 0, 0), (4, 2, 1, 0),
                                         (5, 3, 2, 2), (1, 2, 0, 1), (3, 1, 1, 0)])
def test_transposed_convolution_is_torchs(feature_map, k, s, p, op):
    weight = np.random.default_rng(k * 10 + s).normal(size=(k, k))
    got = cnn.conv_transpose(feature_map, weight, stride=s, padding=p, output_padding=op)
    expected = F.conv_transpose2d(_t(feature_map), _t(weight), stride=s, padding=p,
                                  output_padding=op)
    assert np.allclose(got, _n(expected), atol=1e-12)


@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5, 6])
def test_the_lessons_transposed_upsampling_doubles_exactly_as_torch_does(feature_map, kernel):
    padding, extra = cnn.doubling_padding(kernel)
    got = cnn.upsample(feature_map, "transposed", kernel=kernel)
    expected = F.conv_transpose2d(_t(feature_map), torch.full((1, 1, kernel, kernel), 4 / kernel**2,
                                                              dtype=torch.float64),
                                  stride=2, padding=padding, output_padding=extra)
    assert got.shape == (26, 36)
    assert np.allclose(got, _n(expected), atol=1e-12)


@pytest.mark.parametrize("d, p, k", [(1, 0, 3), (2, 2, 3), (3, 1, 3), (2, 0, 5), (1, 1, 2)])
def test_convolution_with_dilation_is_torchs(feature_map, d, p, k):
    weight = np.random.default_rng(d + 7 * k).normal(size=(k, k))
    expected = F.conv2d(_t(feature_map), _t(weight), dilation=d, padding=p)
    assert np.allclose(cnn.conv2d(feature_map, weight, dilation=d, padding=p), _n(expected),
                       atol=1e-12)
    with pytest.raises(ValueError, match="does not fit"):
        cnn.conv2d(np.zeros((3, 3)), np.ones((3, 3)), dilation=2)


def test_resize_then_convolve_is_torchs_interpolate_then_conv2d(feature_map):
    big = F.interpolate(_t(feature_map), scale_factor=2, mode="nearest")
    expected = F.conv2d(F.pad(big, (1, 1, 1, 1), mode="replicate"),
                        torch.full((1, 1, 3, 3), 1 / 9, dtype=torch.float64))
    assert np.allclose(cnn.resize_then_conv(feature_map), _n(expected), atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        cnn.resize_then_conv(feature_map, 4)


def test_equal_weight_transposed_convolutions_are_nearest_and_bilinear_in_disguise(feature_map):
    # kernel 2, stride 2, weights 1: every input stamps its own 2 x 2 block
    stamped = cnn.conv_transpose(feature_map, np.ones((2, 2)), stride=2)
    assert np.array_equal(stamped, cnn.upsample_nearest(feature_map))
    # kernel 4, stride 2, the tent weights (1, 3, 3, 1) / 4: bilinear away from the border
    tent = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16
    smooth = cnn.conv_transpose(feature_map, tent, stride=2, padding=1)
    assert np.allclose(smooth[1:-1, 1:-1], cnn.upsample_bilinear(feature_map, (26, 36))[1:-1, 1:-1])


@pytest.mark.parametrize("k, s", [(k, s) for k in range(1, 7) for s in range(1, 4)])
def test_overlap_is_even_exactly_when_the_stride_divides_the_kernel(k, s):
    counts = cnn.overlap_count(k, s, size=8)
    inner = counts[k:-k, k:-k]  # away from the border
    few, many = cnn.overlap_per_axis(k, s)
    assert inner.min() == few * few and inner.max() == many * many
    assert (inner.min() == inner.max()) == (k % s == 0)
    expected = _n(F.conv_transpose2d(torch.ones(1, 1, 8, 8), torch.ones(1, 1, k, k), stride=s))
    assert np.array_equal(counts, expected)
    if s == 2:
        assert (cnn.checkerboard(counts, border=k) == 0) == (k % 2 == 0)


def test_on_a_real_feature_map_only_the_uneven_transposed_convolution_leaves_a_checkerboard():
    net, card = load_model("horse")
    from skimage import data

    image = data.chelsea()[::3, ::3].astype(np.float32) / 255
    feats = cnn.unet_features(image, net, card, model="horse")
    maps = feats.encoder[1]
    trip = cnn.round_trip(maps[cnn.most_varied_channel(maps)])
    assert cnn.checkerboard(trip["transposed"]) > 1.0
    assert cnn.checkerboard(cnn.resize_then_conv(trip["pooled"])) < 0.1
    assert cnn.checkerboard(trip["nearest"]) < 0.1
    assert cnn.checkerboard(cnn.upsample(trip["pooled"], "transposed", kernel=4)) < 0.1
    assert cnn.rms(trip["bilinear"], trip["before"]) < cnn.rms(trip["transposed"], trip["before"])


# --------------------------------------------------------------------------- the U-Net's maps


def test_the_features_come_from_the_network_as_seglab_feeds_it():
    net, card = load_model("membrane")
    image = np.random.default_rng(0).random((64, 48, 1)).astype(np.float32)
    feats = cnn.unet_features(image, net, card, model="membrane")
    assert feats.padded_shape == feats.input_shape == (64, 48)
    assert np.allclose(feats.probabilities, predict(image, net, card), atol=1e-5)
    # each level is the network's pooling of the one above, then its convolutions
    with torch.no_grad():
        for level in range(feats.depth):
            pooled = F.max_pool2d(torch.from_numpy(feats.encoder[level].copy())[None], 2)
            below = net.downs[level].conv(pooled)[0].numpy()
            assert np.allclose(below, feats.encoder[level + 1], atol=1e-4)
    assert [m.shape[1:] for m in feats.decoder] == [(8, 6), (16, 12), (32, 24), (64, 48)]
    assert not feats.encoder[0].flags.writeable  # shared by the cache: read-only


def test_odd_sizes_are_padded_and_cropped_back():
    net, card = load_model("horse")
    feats = cnn.unet_features(np.zeros((50, 107, 3), np.float32), net, card)
    assert feats.input_shape == (75, 160) and feats.padded_shape == (80, 160)
    assert [m.shape[1] for m in feats.encoder] == [75, 38, 19, 10, 5]
    assert feats.probabilities.shape == (75, 160, 2)
    thin = cnn.unet_features(np.zeros((16, 4000, 3), np.float32), net, card)
    assert thin.input_shape == (1, 160)
    with pytest.raises(ValueError, match="shape"):
        cnn.unet_features(np.zeros((8, 8)), net, card)


# --------------------------------------------------------------------------- receptive fields


@pytest.mark.parametrize("schedule", cnn.SCHEDULES)
@pytest.mark.parametrize("layers", [1, 2, 3, 5])
def test_the_receptive_field_formula_is_what_torchs_gradient_measures(schedule, layers):
    rates = cnn.dilation_rates(schedule, layers)
    field = cnn.receptive_field([(3, 1, d) for d in rates])
    grad = cnn.gradient_map(np.zeros((81, 81)), 40, 40, kernel=3, dilations=rates)
    assert cnn.field_extent(grad) == (field, field)
    # which pixels inside the square reach the output: the support along each axis
    offsets = cnn.support(3, rates)
    assert offsets.min() == -(field // 2) and offsets.max() == field // 2
    assert np.array_equal(np.nonzero(grad[40])[0] - 40, offsets)
    assert np.array_equal(grad > 0, np.outer(np.isin(np.arange(81) - 40, offsets),
                                             np.isin(np.arange(81) - 40, offsets)))
    if schedule == "rate 2":  # gridding: only even offsets
        assert (offsets % 2 == 0).all()
    else:
        assert offsets.size == field


def test_the_same_gradient_through_torchs_own_dilated_conv_layers():
    layers = nn.Sequential(*(nn.Conv2d(1, 1, 3, dilation=d, padding=d, bias=False)
                             for d in (1, 2, 4)))
    for layer in layers:
        nn.init.constant_(layer.weight, 1.0)
    x = torch.zeros(1, 1, 41, 41, requires_grad=True)
    layers(x)[0, 0, 20, 20].backward()
    ours = cnn.gradient_map(np.zeros((41, 41)), 20, 20, kernel=3, dilations=(1, 2, 4))
    assert np.allclose(ours, x.grad[0, 0].numpy())


def test_pooling_in_the_receptive_field_formula_matches_torch():
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    w = torch.ones(1, 1, 3, 3)
    y = F.conv2d(F.avg_pool2d(F.conv2d(x, w, padding=1), 2), w, padding=1)
    y = F.conv2d(F.avg_pool2d(y, 2), w, padding=1)
    y[0, 0, 8, 8].backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    layers = [(3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1)]
    assert rows.max() - rows.min() + 1 == cnn.receptive_field(layers) == 18
    assert cols.max() - cols.min() + 1 == 18


def test_the_field_picture_and_the_diagram():
    grad = cnn.gradient_map(np.zeros((40, 40)), 20, 20, kernel=3, dilations=(2, 2))
    picture = cnn.field_picture(np.full((40, 40, 3), 0.5, np.float32), grad, 20, 20, margin=3)
    assert picture.shape == (15, 15, 3)  # the 9 x 9 field and 3 pixels around it
    assert cnn.corner_paths(grad) == 1.0 and grad[20, 20] == 9.0
    fig = cnn.dilation_figure(3, (2, 2))
    assert [int(v) for v in fig.data[-1].x] == cnn.support(3, (2, 2)).tolist()
    with pytest.raises(ValueError, match="schedule"):
        cnn.dilation_rates("random", 3)
    with pytest.raises(ValueError, match="outside"):
        cnn.gradient_map(np.zeros((5, 5)), 9, 0, kernel=3, dilations=(1,))


# --------------------------------------------------------------------------- the page


def _answer_number(at, key: str, value) -> None:
    at.slider(key=next(s.key for s in at.slider if s.key.startswith(f"{key}."))).set_value(value)
    at.run()
    at.button(key=f"{key}.reveal").click().run()
    assert_no_exception(at)


def _answer_all(at) -> None:
    _answer_number(at, "cnn.dense", 12)
    _answer_number(at, "cnn.bottleneck", 6)
    at.radio(key="cnn.checkerboard.k3s2.guess").set_value(
        "A grid: every other row and every other column is brighter").run()
    at.button(key="cnn.checkerboard.reveal").click().run()
    _answer_number(at, "cnn.field", 15)


def _text(at) -> str:
    return " ".join(e.value for e in [*at.latex, *at.info, *at.success, *at.warning,
                                      *at.caption, *at.markdown])


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    at = open_lesson(PAGE, sample=("generated", "colour shapes"))
    at.radio(key="learn.cnn.image").set_value(choice).run()
    assert_no_exception(at)
    assert "Commit to a guess" in _text(at)
    shown = " ".join(e.value for e in at.latex)  # no count before the learner commits
    assert r"\text{conv: }" not in shown and r"\sum_l d_l" not in shown
    _answer_all(at)
    text = _text(at)
    from seglab.lesson import ANSWERS
    assert len(at.session_state[ANSWERS]) == 4
    assert at.session_state[ANSWERS]["cnn.checkerboard"] and at.session_state[ANSWERS]["cnn.field"]
    assert "Checked with torch" in text and r"\text{conv: }" in text
    assert r"1 + 2\,(1 + 2 + 4) = 15" in text and "over 15 × 15 pixels" in text
    assert "trades *where* for *what*" in text and "comes back closest" in text
    assert "What to notice" in text and "Error" not in "".join(e.value for e in at.error)
    if choice != "photo":
        return
    at.slider(key="cnn.out_channels").set_value(64).run()
    at.select_slider(key="cnn.kernel").set_value(7).run()
    assert r"64\,(3\cdot7^2 + 1) = 9{,}472" in _text(at)
    at.select_slider(key="cnn.level").set_value(3).run()
    at.slider(key=next(s.key for s in at.slider if s.key.startswith("cnn.channel."))).set_value(5)
    at.run()
    at.slider(key="cnn.tkernel").set_value(4).run()
    at.slider(key="cnn.stride").set_value(3).run()
    assert_no_exception(at)
    assert "no checkerboard from the overlap" in _text(at)
    at.slider(key="cnn.layers").set_value(4).run()
    at.button_group(key="cnn.schedule").set_value("rate 2").run()
    assert_no_exception(at)
    assert "gridding" in _text(at) and "over 17 × 17 pixels" in _text(at)


def test_a_wrong_guess_is_told_so_and_the_counts_follow_the_image(open_lesson):
    at = open_lesson(PAGE)
    at.radio(key="learn.cnn.image").set_value("generated").run()
    _answer_number(at, "cnn.dense", 3)
    assert "Not quite: you said 3" in " ".join(w.value for w in at.warning)
    # the generated blobs are 192 x 192, gray: 36,864 inputs, 589,824 outputs
    assert "36{,}864" in _text(at) and "membrane" in _text(at)


def test_an_image_too_thin_for_the_network_gets_words_not_a_traceback(open_lesson):
    from seglab.state import CurrentImage

    at = open_lesson(PAGE)
    thin = np.random.default_rng(0).random((16, 4000, 3)).astype(np.float32)
    at.session_state["current"] = CurrentImage(name="thin.png", origin="upload", key="thin",
                                               image=thin, preview=thin)
    at.radio(key="learn.cnn.image").set_value("yours").run()
    assert_no_exception(at)
    _answer_all(at)
    assert "too thin" in " ".join(i.value for i in at.info)
