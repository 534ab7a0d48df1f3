"""Data augmentation: segcore.nn.augment (a mask follows its image exactly under every
augmentation; zero parameters are the identity; the warps against numpy, scikit-image
and scipy), the lesson's numbers, and the lesson page driven headless."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi
from skimage import data, transform

from conftest import assert_no_exception
from segcore import synthetic
from segcore.learn import augmentation as aug
from segcore.nn import augment
from segcore.nn.augment import Augment, Recipe

PAGE = "pages/learn/augmentation.py"

OFFSETS = augment.elastic_offsets(5.0, torch.Generator().manual_seed(3))
EVERY = {
    "shift": Augment(shift=(7.5, -12.0)),
    "turn": Augment(angle=33),
    "quarter turn": Augment(angle=-90),
    "shear": Augment(shear=25),
    "zoom in": Augment(scale=0.62),
    "zoom out": Augment(scale=1.7),
    "mirror left-right": Augment(flip_h=True),
    "mirror top-bottom": Augment(flip_v=True),
    "elastic": Augment(elastic=OFFSETS),
    "centre": Augment(centre=(10.3, 40.7)),
    "all at once": Augment(shift=(3, 4), angle=-141, shear=-12, scale=1.3, flip_h=True,
                           flip_v=True, elastic=OFFSETS, centre=(30.0, 20.0),
                           contrast=1.4, brightness=-0.2),
}


def _mask(shape=(45, 62), classes=2, seed=0):
    """Blocky class ids 0..classes-1 (edges in every direction), as int64."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, classes, (6, 8))
    mask = transform.resize(coarse, shape, order=0, preserve_range=True,
                            anti_aliasing=False).astype(np.int64)
    return torch.from_numpy(mask)


# --------------------------------------------------------------------------- the engine


@pytest.mark.parametrize("name", list(EVERY))
@pytest.mark.parametrize("size", [None, (40, 33)])
def test_a_two_class_mask_follows_its_image_exactly(name, size):
    """The image is the mask itself: the warped image, thresholded, is the warped mask."""
    mask = _mask()
    params = EVERY[name]
    plain = replace(params, contrast=1.0, brightness=0.0)
    image, moved = augment.apply(mask[None].float(), mask, plain, size=size)
    assert torch.equal((image[0] > 0.5).long(), moved)
    assert 0 < moved.float().mean() < 1
    # Brightness and contrast change the image only, never the mask.
    relit, moved_too = augment.apply(mask[None].float(), mask, params, size=size)
    assert torch.equal(moved_too, moved)


@pytest.mark.parametrize("name", list(EVERY))
def test_a_mask_of_many_classes_follows_its_image_exactly(name):
    """One image channel per class 1..K-1 (its share): the class with the largest
    warped share is the warped mask's class, pixel for pixel."""
    mask = _mask(classes=4, seed=1)
    shares = torch.stack([(mask == k).float() for k in (1, 2, 3)])
    plain = replace(EVERY[name], contrast=1.0, brightness=0.0)
    image, moved = augment.apply(shares, mask, plain)
    classes = torch.cat([1 - image.sum(dim=0, keepdim=True), image]).argmax(dim=0)
    assert torch.equal(classes, moved)
    assert set(moved.unique().tolist()) == {0, 1, 2, 3}


def test_augmentations_drawn_as_training_draws_them_keep_the_mask_on_the_image():
    recipe = Recipe(size=40, scale=(0.7, 1.3), angle=20, shear=15, elastic=6, exact=0.3)
    gen = torch.Generator().manual_seed(0)
    mask = _mask((70, 90))
    for _ in range(25):
        params = augment.draw((70, 90), recipe, gen)
        assert abs(params.shear) <= 15 and 0.7 <= params.scale <= 1.3
        image, moved = augment.apply(mask[None].float(), mask, params, size=40)
        relit, _ = augment.apply(mask[None].float(), mask,
                                 replace(params, contrast=1.0, brightness=0.0), size=40)
        assert torch.equal((relit[0] > 0.5).long(), moved)


@pytest.mark.parametrize("shape", [(32, 32), (37, 53), (20, 64)])
def test_zero_parameters_are_the_identity(shape):
    image = torch.rand(3, *shape, generator=torch.Generator().manual_seed(0))
    mask = _mask(shape, classes=3)
    out, same = augment.apply(image, mask, Augment())
    assert Augment().is_identity()
    assert torch.equal(same, mask)
    assert torch.allclose(out, image, atol=1e-5)
    # An explicit centre at the image's centre, zero offsets and a whole turn are too.
    h, w = shape
    params = Augment(centre=((h - 1) / 2, (w - 1) / 2), angle=360,
                     elastic=(((0.0,) * 3,) * 3,) * 2)
    out, same = augment.apply(image, mask, params)
    assert torch.equal(same, mask) and torch.allclose(out, image, atol=1e-5)
    np.testing.assert_allclose(augment.matrix(Augment(), shape), [[1, 0, 0], [0, 1, 0]])


@pytest.mark.parametrize("params, expected", [
    (Augment(angle=90), lambda a: np.rot90(a)),
    (Augment(angle=-90), lambda a: np.rot90(a, -1)),
    (Augment(angle=180), lambda a: np.rot90(a, 2)),
    (Augment(flip_h=True), np.fliplr),
    (Augment(flip_v=True), np.flipud),
    (Augment(angle=90, flip_h=True), lambda a: np.fliplr(np.rot90(a))),
])
def test_quarter_turns_and_mirrors_copy_pixels_as_numpy_does(params, expected):
    """Positive angles turn the content counter-clockwise, as np.rot90 does; a quarter
    turn of a W x H image into an H x W output copies every pixel."""
    rng = np.random.default_rng(0)
    image = rng.random((21, 34)).astype(np.float32)
    want = expected(image)
    out, _ = aug.warp(image[:, :, None], None, params, size=want.shape)
    np.testing.assert_allclose(out[:, :, 0], want, atol=1e-5)
    m = augment.matrix(params, image.shape, want.shape)
    assert set(np.round(m[:, :2].ravel(), 12)) <= {-1.0, 0.0, 1.0}


def test_the_affine_warp_is_scikit_images_with_the_same_matrix():
    """skimage.transform.warp with the matrix as its output-to-source map, bilinear,
    mirrored beyond the edges ('symmetric', as grid_sample's reflection) gives the same
    picture."""
    image = data.camera()[100:260:2, 150:330:2].astype(np.float32) / 255
    params = Augment(shift=(4, -9), angle=27, shear=14, scale=0.83, flip_h=True,
                     centre=(35.2, 48.9))
    out, _ = aug.warp(image[:, :, None], None, params, size=(70, 64))
    m = np.vstack([augment.matrix(params, image.shape, (70, 64)), [0, 0, 1]])
    want = transform.warp(image, transform.AffineTransform(matrix=m), output_shape=(70, 64),
                          order=1, mode="symmetric")
    np.testing.assert_allclose(out[:, :, 0], want, atol=2e-4)


def test_the_elastic_warp_is_scipys_map_coordinates_over_the_displacement():
    image = data.camera()[::8, ::8].astype(np.float32) / 255
    params = Augment(elastic=augment.elastic_offsets(6.0, torch.Generator().manual_seed(1)))
    d = augment.displacement(params, image.shape).numpy().astype(np.float64)
    # The coarse offsets sit on the corner pixels and the centre of the output.
    h, w = image.shape
    coarse = np.asarray(params.elastic)
    np.testing.assert_allclose(d[:, [0, 0, -1, -1], [0, -1, 0, -1]],
                               coarse[:, [0, 0, -1, -1], [0, -1, 0, -1]], atol=1e-5)
    rows, cols = np.mgrid[:h, :w].astype(np.float64)
    want = ndi.map_coordinates(image, [rows + d[1], cols + d[0]], order=1, mode="reflect")
    out, _ = aug.warp(image[:, :, None], None, params)
    np.testing.assert_allclose(out[:, :, 0], want, atol=2e-4)


def test_brightness_and_contrast_are_the_formula_around_the_mean():
    rng = np.random.default_rng(0)
    image = (0.3 + 0.4 * rng.random((30, 40, 3))).astype(np.float32)
    out, _ = aug.warp(image, None, Augment(contrast=1.2, brightness=0.05))
    want = np.clip((image - image.mean()) * 1.2 + image.mean() + 0.05, 0, 1)
    np.testing.assert_allclose(out, want, atol=1e-5)
    assert out.mean() == pytest.approx(image.mean() + 0.05, abs=1e-5)


def test_labels_drawn_off_their_image_keep_their_offset_through_a_turn():
    """A mask drawn (1, 0) px off its image keeps (1, 0) after a quarter turn and a
    mirror, where moving it with the image would have turned the offset to (0, -1)."""
    image = torch.zeros(1, 40, 40)
    image[0, 15:25, 10:30] = 1
    mask = torch.zeros(40, 40, dtype=torch.int64)
    mask[14:24, 10:30] = 1  # the mask at p shows the image at p + (1, 0)
    params = Augment(angle=90, flip_h=True)
    out, kept = augment.apply(image, mask, params, label_offset=(1.0, 0.0))
    _, turned = augment.apply(image, mask, params)
    rows = lambda m: torch.nonzero(m.any(dim=1))[[0, -1], 0].tolist()  # noqa: E731
    cols = lambda m: torch.nonzero(m.any(dim=0))[[0, -1], 0].tolist()  # noqa: E731
    found = out[0] > 0.5
    assert [r - 1 for r in rows(found)] == rows(kept) and cols(found) == cols(kept)
    assert rows(found) == rows(turned) and [c + 1 for c in cols(found)] == cols(turned)


def test_shear_is_drawn_only_when_the_recipe_has_some():
    plain, sheared = Recipe(size=16, angle=10), Recipe(size=16, angle=10, shear=20)
    a = augment.draw((50, 50), plain, torch.Generator().manual_seed(4))
    b = augment.draw((50, 50), sheared, torch.Generator().manual_seed(4))
    assert a.shear == 0 and b.shear != 0 and a.angle == b.angle
    assert a.flip_h != b.flip_h or a.centre != b.centre  # one more number drawn before them
    assert augment.draw((50, 50), Recipe(16, shear=20, exact=1.0),
                        torch.Generator()).shear == 0  # an exact crop never shears


@pytest.mark.parametrize("make, message", [
    (lambda: Augment(scale=0), "scale must be a positive number"),
    (lambda: Augment(shear=95), "shear must be within -89 to 89 degrees"),
    (lambda: Augment(elastic=((1.0, 2.0),)), "elastic must be"),
    (lambda: Recipe(size=32, margin=16), "margin must be 0 to less than half"),
    (lambda: Recipe(size=32, scale=(1.2, 0.9)), "scale must be"),
    (lambda: augment.apply(torch.zeros(1, 5, 5), torch.zeros(4, 5, dtype=torch.int64),
                           Augment()), "mask must be"),
    (lambda: augment.apply(torch.zeros(5, 5), None, Augment()), r"image must be \(C, H, W\)"),
    (lambda: augment.apply(torch.zeros(1, 5, 5), torch.full((5, 5), 3), Augment(), soft=True),
     "soft masks need two classes"),
    (lambda: Recipe.from_card({"training": {}}), "records no training augmentation"),
])
def test_bad_input_is_refused_in_words(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --------------------------------------------------------------------------- the lesson's numbers


@pytest.mark.parametrize("params", [
    Augment(shift=(3, 4), angle=-141, shear=-12, scale=0.8, flip_v=True),
    Augment(angle=90, flip_h=True), Augment(shear=30, scale=0.7, centre=(25.0, 33.0))])
def test_where_a_pixel_goes_is_where_a_dot_drawn_there_lands(params):
    image = np.zeros((60, 80, 1), np.float32)
    image[20, 30] = 1
    out, _ = aug.warp(image, None, params, size=(64, 64))
    r, c = aug.where_it_goes(params, (60, 80), (20, 30), size=(64, 64))
    # The dot's light spreads over the pixels around where it lands; its centre of
    # mass is there.
    rows, cols = np.mgrid[:64, :64]
    weight = out[:, :, 0]
    assert weight.sum() > 0.3
    assert (rows * weight).sum() / weight.sum() == pytest.approx(r, abs=0.35)
    assert (cols * weight).sum() / weight.sum() == pytest.approx(c, abs=0.35)


def test_the_shipped_membrane_card_gives_the_lessons_numbers():
    card = aug.shipped_card("membrane")
    facts = aug.card_facts(card)
    assert (facts["train"], facts["val"]) == (23, 2)
    assert facts["crops"] == card["training"]["iterations"] * card["training"]["batch"]
    assert facts["recipe"].describe() == card["training"]["augmentation"]
    assert facts["recipe"].size == card["training"]["crop"]
    assert aug.count_slices(card["training"]["split"]["report (held out)"]) == 5


def test_one_crop_in_eight_is_drawn_the_right_way_round():
    recipe = aug.card_facts(aug.shipped_card("membrane"))["recipe"]
    n = 1600
    upright = aug.upright_share(recipe, n=n, rng=2)
    assert abs(upright - n / 8) < 4 * np.sqrt(n * (1 / 8) * (7 / 8))


def test_training_crops_are_the_training_batch_of_one_image():
    s = synthetic.blobs((90, 90))
    recipe = Recipe(size=48, scale=(0.9, 1.1), angle=10, elastic=4)
    crops, truths = aug.training_crops(s.image, s.truth, recipe, n=5, rng=3)
    x, y = augment.sample_batch([(torch.from_numpy(s.image.transpose(2, 0, 1).copy()),
                                  torch.from_numpy(s.truth.astype(np.int64)))], recipe,
                                torch.Generator().manual_seed(3), batch=5)
    assert np.array_equal(crops, x.permute(0, 2, 3, 1).numpy())
    assert np.array_equal(truths, y.numpy())
    assert aug.montage(crops, truths, columns=3).shape == (2 * 48 + 4, 3 * 48 + 8, 3)
    small, _ = aug.training_crops(s.image, None, recipe, n=2, max_side=60)
    assert small.shape == (2, 48, 48, 1)


# --------------------------------------------------------------------------- the page


def _answer_all(at):
    at.radio(key=next(r.key for r in at.radio if r.key.startswith("augmentation.where."))) \
        .set_value("bottom right").run()
    at.button(key="augmentation.where.reveal").click().run()
    assert_no_exception(at)
    mask_question = [r.key for r in at.radio if r.key.startswith("augmentation.mask.")]
    if mask_question:
        at.radio(key=mask_question[0]).set_value("Nothing: the mask stays as it is").run()
        at.button(key="augmentation.mask.reveal").click().run()
    at.slider(key="augmentation.upright.membrane.guess").set_value(3000).run()
    at.button(key="augmentation.upright.reveal").click().run()
    assert_no_exception(at)
    return bool(mask_question)


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    at = open_lesson(PAGE, sample=("generated", "low contrast"))
    at.radio(key="learn.augmentation.image").set_value(choice).run()
    assert_no_exception(at)
    first = at.latex[0].value
    for key, value in [("augmentation.shift_x", 20), ("augmentation.shift_y", -10),
                       ("augmentation.angle", 90), ("augmentation.shear", 15),
                       ("augmentation.elastic", 9),
                       ("augmentation.draw", 5), ("augmentation.brightness", 0.2),
                       ("augmentation.contrast", 1.5)]:
        at.slider(key=key).set_value(value).run()
        assert_no_exception(at)
    at.select_slider(key="augmentation.zoom").set_value(1.6).run()
    at.toggle(key="augmentation.flip_h").set_value(True).run()
    at.toggle(key="augmentation.flip_v").set_value(True).run()
    assert at.latex[0].value != first
    assert r"\theta = 90^\circ,\ \varphi = 15^\circ" in " ".join(e.value for e in at.latex)
    assert _answer_all(at)
    feedback = " ".join(e.value for e in [*at.success, *at.warning])
    assert "the mirror swaps left and right" in feedback
    assert "0 of the mask's" in feedback and "8 orientations" in feedback
    at.radio(key="augmentation.recipe").set_value("horse").run()
    at.slider(key="augmentation.batch").set_value(7).run()
    assert_no_exception(at)
    assert "from images resized to 160 px" in " ".join(c.value for c in at.caption)
    notices = " ".join(e.value for e in at.info)
    assert notices.count("What to notice") == 5
    from seglab.lesson import ANSWERS
    assert len(at.session_state[ANSWERS]) == 3


def test_an_own_image_without_truth_is_moved_alone(open_lesson):
    at = open_lesson(PAGE, sample=("scikit-image", "coins"))
    at.radio(key="learn.augmentation.image").set_value("yours").run()
    assert_no_exception(at)
    assert "has no ground truth" in " ".join(e.value for e in at.info)
    assert not _answer_all(at)  # no mask, so no question about what the light does to it
    assert "areas in the picture grow" in " ".join(e.value for e in at.info)


def test_the_matrix_on_the_page_is_the_engines(open_lesson):
    at = open_lesson(PAGE)
    at.slider(key="augmentation.angle").set_value(0).run()
    at.select_slider(key="augmentation.zoom").set_value(2.0).run()
    latex = at.latex[0].value
    assert r"0.50 & 0.00" in latex and r"0.00 & 0.50" in latex
