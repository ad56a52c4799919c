"""Section 18's heat maps (occlusion sensitivity): what occlusion() computes, on a stand-in model
whose answer depends on one known region; how heat_picture() colours a map; and that the map is
faithful on the tests' trained model: covering the patches it ranks highest lowers the answer's
probability more than covering as many random patches that hold ink (benchmarks/occlusion.py runs
the same deletion test on the full model)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.occlusion import deletion_curves

REGION = (slice(10, 16), slice(4, 10))  # the stand-in's evidence for a 3: rows 10-15, columns 4-9


@pytest.fixture(scope="module")
def region_model(notebook_functions: dict):
    """A stand-in whose score for 3 grows with the ink in REGION; every other digit scores 0."""
    keras = notebook_functions["keras"]

    class Region(keras.Model):
        def call(self, x):
            ink = keras.ops.mean(x[:, REGION[0], REGION[1], 0], axis=(1, 2))
            logits = keras.ops.one_hot(keras.ops.full_like(ink, 3, dtype="int32"), 10)
            return keras.ops.softmax(8 * logits * ink[:, np.newaxis])

    return Region()


def test_occlusion_finds_the_region_the_answer_comes_from(
    notebook_functions: dict, region_model
) -> None:
    occlusion, patch = notebook_functions["occlusion"], notebook_functions["PATCH"]
    image = np.ones((28, 28, 1), np.float32)
    scores, heat = occlusion(region_model, image)
    expected = np.asarray(region_model(image[np.newaxis]))[0]
    np.testing.assert_allclose(scores, expected, atol=1e-6)
    assert heat.shape == (28, 28, 10)
    np.testing.assert_allclose(heat.sum(axis=2), 0, atol=1e-6)  # what 3 loses, the others gain
    # A pixel's value is the mean over the patches that cover it: positive exactly where one of
    # them overlaps the region, zero where none does.
    overlaps = np.zeros((28, 28), bool)
    for r, c in notebook_functions["CORNERS"]:
        if r < REGION[0].stop and r + patch > REGION[0].start:
            if c < REGION[1].stop and c + patch > REGION[1].start:
                overlaps[r : r + patch, c : c + patch] = True
    np.testing.assert_array_equal(heat[:, :, 3] > 1e-6, overlaps)
    assert np.abs(heat[~overlaps, 3]).max() < 1e-6
    peak = np.unravel_index(heat[:, :, 3].argmax(), (28, 28))
    assert (
        REGION[0].start <= peak[0] < REGION[0].stop and REGION[1].start <= peak[1] < REGION[1].stop
    )


def test_heat_picture_draws_red_for_evidence_for_and_blue_against(notebook_functions: dict) -> None:
    heat_picture, red, blue = (notebook_functions[name] for name in ("heat_picture", "RED", "BLUE"))
    image = np.zeros((28, 28, 1), np.float32)
    image[5:20, 12:15] = 1  # a stroke
    heat = np.zeros((28, 28))
    heat[0, 0], heat[27, 27], heat[10, 13] = 0.5, -0.25, 0.1
    picture = heat_picture(image, heat)
    assert picture.shape == (28, 28, 3) and picture.dtype == np.uint8
    distance = lambda pixel, colour: np.abs(pixel / 255 - colour).sum()  # noqa: E731
    assert distance(picture[0, 0], red) < distance(picture[0, 0], blue)
    assert distance(picture[27, 27], blue) < distance(picture[27, 27], red)
    assert np.all(picture[1, 1] == 255)  # no ink, no evidence: white paper
    assert np.all(picture[6, 13] == picture[6, 13, 0]) and picture[6, 13, 0] < 255  # grey ink
    # The strongest value is the most coloured; half of it, half as much.
    assert distance(picture[0, 0], red) < distance(picture[27, 27], blue)
    np.testing.assert_array_equal(heat_picture(image, np.zeros((28, 28)))[1, 1], [255, 255, 255])


def test_covering_what_the_map_ranks_first_lowers_the_answer_more_than_random_ink(
    trained_notebook: dict,
) -> None:
    """The deletion test on the tests' model and 100 validation digits: at every count of covered
    patches, the answer's mean probability falls further when the map chooses the patches."""
    cells = trained_notebook
    result = deletion_curves(cells, cells["model"], cells["x_val"][:100])
    print(result)
    for by_map, at_random in zip(result["map_probability"], result["random_probability"]):
        assert by_map < at_random - 0.05
    assert result["map_changed"][0] > result["random_changed"][0]
