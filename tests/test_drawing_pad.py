"""The drawing pad's Python side: canvas data → image → prepare_digit → the network and what it
computes inside, as the widget calls it, and what the widget sends to the browser.

The browser side is tested in a real browser by test_browser.py; here the widget runs without a
frontend.
"""

from __future__ import annotations

import base64
import collections
import json

import cv2
import numpy as np
import pytest

from tests.drawings import draw_digit, grid

PAD = 280


def data_url(image: np.ndarray, kind: str = ".png") -> str:
    """What the browser sends: the canvas as a base64 data URL (canvas.toDataURL())."""
    encoded = base64.b64encode(cv2.imencode(kind, image)[1].tobytes()).decode()
    return f"data:image/{kind[1:]};base64,{encoded}"


def as_canvas(image: np.ndarray) -> np.ndarray:
    """A browser canvas is RGBA: white strokes on an opaque black background (BGRA for OpenCV)."""
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)


def png_of(url: str) -> np.ndarray:
    """A PNG data URL that the widget sends, decoded to RGB (or gray)."""
    image = cv2.imdecode(
        np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_UNCHANGED
    )
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


@pytest.fixture(scope="module")
def untrained(notebook_functions: dict) -> dict:
    """An untrained network, section 14's look inside it, and a map fitted on 500 random feature
    rows."""
    keras = notebook_functions["keras"]
    keras.utils.set_random_seed(0)
    model = notebook_functions["build_model"]()
    features = np.random.default_rng(0).random((500, 128), dtype=np.float32)
    labels = np.arange(500) % 10
    projection = notebook_functions["fit_map"](features)
    inside = notebook_functions["look_inside"](model)
    return {"model": model, "inside": inside, "projection": projection} | {
        "features": features,
        "labels": labels,
    }


TEXT = base64.b64encode(b"this is not a picture").decode()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "PNG data URL"),
        (None, "PNG data URL"),
        ("just some text", "PNG data URL"),
        ("data:image/png;base64,", "empty"),
        ("data:image/png;base64,***", "not valid base64"),
        (f"data:image/png;base64,{TEXT}", "not a PNG image"),
        (data_url(np.zeros((100, 100), np.uint8)), "expected a 280×280 drawing, got 100×100"),
        (data_url(np.zeros((PAD, PAD), np.uint8), ".jpg"), "PNG data URL"),
    ],
)
def test_bad_canvas_data_gets_a_clear_error(
    notebook_functions: dict, bad: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        notebook_functions["decode_drawing"](bad)


def test_a_blank_pad_has_no_ink(notebook_functions: dict, untrained: dict) -> None:
    blank = data_url(as_canvas(np.zeros((PAD, PAD), np.uint8)))
    with pytest.raises(ValueError, match="no ink found"):
        notebook_functions["read_drawing"](untrained["inside"], blank)


def test_read_drawing_prepares_the_canvas_like_any_picture(
    notebook_functions: dict, untrained: dict
) -> None:
    canvas = as_canvas(draw_digit("4", width=18, height=200, centre=(100, 160)))
    found = notebook_functions["read_drawing"](untrained["inside"], data_url(canvas))
    np.testing.assert_array_equal(found["seen"], notebook_functions["prepare_digit"](canvas))
    expected = untrained["model"].predict(found["seen"][np.newaxis, ..., np.newaxis], verbose=0)[0]
    np.testing.assert_allclose(
        found["probabilities"], expected, atol=1e-6
    )  # the network's own answer
    assert [m.shape for m in found["maps"]] == [(24, 24, 32), (10, 10, 64), (8, 8, 64)]
    assert found["features"].shape == (128,)


def test_the_widget_shows_errors_instead_of_raising(
    notebook_functions: dict, untrained: dict
) -> None:
    pad = notebook_functions["DrawingPad"](
        untrained["model"], untrained["projection"], untrained["features"], untrained["labels"]
    )
    synced = {
        "size",
        "brush",
        "drawing",
        "digit",
        "probabilities",
        "preview",
        "maps",
        "point",
        "message",
    }
    assert synced | {"map_image"} <= set(pad.get_state())  # what the browser side reads and writes
    assert (pad.digit, pad.message, pad.size) == (-1, "Draw a digit", PAD)
    pad.drawing = "data:image/png;base64,***"  # what a broken browser might send
    assert pad.digit == -1 and "not valid base64" in pad.message
    pad.drawing = data_url(as_canvas(np.zeros((PAD, PAD), np.uint8)))
    assert pad.digit == -1 and "no ink found" in pad.message and pad.maps == [] and pad.point == []
    canvas = as_canvas(draw_digit("1"))
    pad.drawing = data_url(canvas)
    assert 0 <= pad.digit <= 9 and pad.message == "" and len(pad.probabilities) == 10
    assert len(pad.maps) == 3 and len(pad.point) == 2
    np.testing.assert_allclose(
        png_of(pad.preview) / 255, notebook_functions["prepare_digit"](canvas), atol=0.5 / 255
    )
    pad.drawing = ""  # the Clear button
    assert (pad.digit, pad.probabilities, pad.preview, pad.maps, pad.point, pad.message) == (
        -1, [], "", [], [], "Draw a digit")  # fmt: skip


@pytest.fixture(scope="module")
def trained_pad(trained_notebook: dict) -> dict:
    """The widget over the tests' trained model and section 14's map of 2,000 validation images."""
    namespace = dict(trained_notebook)
    inside = namespace["look_inside"](namespace["model"])
    features, _ = namespace["learned_features"](inside, namespace["x_val"][:2000])
    projection = namespace["fit_map"](features)
    pad = namespace["DrawingPad"](
        namespace["model"], projection, features, namespace["val_labels"][:2000]
    )
    return namespace | {
        "inside": inside,
        "features": features,
        "projection": projection,
        "pad": pad,
    }


def test_the_widget_sends_what_section_14_computes(trained_pad: dict) -> None:
    """For a drawn digit: the maps the widget sends are each block's 8 most active channels of
    feature_maps(prepare_digit(drawing)), coloured as section 14 colours them; the point is the
    map's projection of learned_features of the same 28×28 image, placed on the map's picture."""
    ns, pad = trained_pad, trained_pad["pad"]
    canvas = as_canvas(draw_digit("3"))
    pad.drawing = data_url(canvas)
    seen = ns["prepare_digit"](canvas)
    magma = ns["plt"].get_cmap("magma")
    np.testing.assert_array_equal(
        np.reshape(pad.colours, (256, 3)), magma(np.arange(256), bytes=True)[:, :3]
    )
    for url, maps in zip(pad.maps, ns["feature_maps"](ns["inside"], seen)):
        channels = np.argsort(-maps.mean(axis=(0, 1)))[:8]  # the most active, computed here again
        sent, size = png_of(url), maps.shape[0]
        assert sent.shape == (size, 8 * size + 7) and sent.dtype == np.uint8  # colour indices
        for k, channel in enumerate(channels):
            tile = maps[:, :, channel]
            drawn = magma((tile - tile.min()) / (tile.max() - tile.min()), bytes=True)[
                :, :, :3
            ]  # as imshow
            shown = np.reshape(pad.colours, (256, 3))[
                sent[:, k * (size + 1) : k * (size + 1) + size]
            ]
            np.testing.assert_array_equal(shown, drawn)
    features, predicted = ns["learned_features"](ns["inside"], seen[np.newaxis])
    assert pad.digit == predicted[0]
    np.testing.assert_allclose(
        pad.point, pad.to_map(ns["projection"].transform(features)[0]), atol=1e-9
    )
    message = sum(
        len(json.dumps(getattr(pad, name)))
        for name in ("digit", "probabilities", "preview", "maps", "point", "message")
    )
    print(f"what the widget sends for one stroke: {message:,} bytes")
    assert message < 8_000  # a few kB: three small PNGs, a 28×28 PNG and a few numbers


def test_the_map_picture_places_points_where_they_are(trained_pad: dict) -> None:
    """to_map turns the map's points into places on its picture: inside it, in the same order along
    x, and upside down along y (a browser counts y downwards); the picture is the map, sent once."""
    pad, points = trained_pad["pad"], trained_pad["projection"].transform(trained_pad["features"])
    places = np.array([pad.to_map(point) for point in points])
    assert places.min() > 0 and places.max() < 1
    assert np.array_equal(np.argsort(places[:, 0]), np.argsort(points[:, 0]))
    assert np.array_equal(np.argsort(places[:, 1]), np.argsort(-points[:, 1]))
    picture = png_of(pad.map_image)
    assert picture.shape[0] > 200 and picture.shape[1] > 200 and picture.ndim == 3
    # Where the points lie most densely, the picture is coloured (not the white background).
    x, y = (np.median(places, axis=0) * [picture.shape[1], picture.shape[0]]).astype(int)
    assert picture[y - 3 : y + 4, x - 3 : x + 4].min() < 250


def test_strokes_come_out_as_wide_as_mnist_strokes(notebook_functions: dict) -> None:
    """Hairlines on large digits and marker strokes on small ones both end up within the range of
    widths that 80% of MNIST's digits have (measured in the notebook): the median over the ten
    digits, for every stroke width and height on its own."""
    stroke_width, low, high = (
        notebook_functions["stroke_width"],
        *notebook_functions["MNIST_STROKE"][::2],
    )
    widths = collections.defaultdict(list)
    for digit, brush, height, centre in grid():
        prepared = notebook_functions["prepare_digit"](draw_digit(digit, brush, height, centre))
        widths[brush, height].append(stroke_width((prepared > 0.5).astype(np.uint8)))
    medians = {key: round(float(np.median(values)), 2) for key, values in widths.items()}
    assert len(medians) == 12
    assert all(low <= median <= high for median in medians.values()), medians


def test_the_model_reads_drawn_digits(trained_pad: dict) -> None:
    """Ten digits drawn as strokes at four widths, three sizes and three places, sent as the pad
    sends them: the tests' model reads nearly all of them, whatever the stroke width."""
    read_drawing, inside = trained_pad["read_drawing"], trained_pad["inside"]
    right = collections.defaultdict(list)
    for digit, brush, height, centre in grid():
        found = read_drawing(inside, data_url(as_canvas(draw_digit(digit, brush, height, centre))))
        right[brush].append(found["probabilities"].argmax() == int(digit))
    total = sum(map(sum, right.values())), sum(map(len, right.values()))
    print(
        f"read {total[0]} of {total[1]}; by stroke width:",
        {b: np.mean(r) for b, r in right.items()},
    )
    assert total[0] >= 0.9 * total[1]
    assert all(np.mean(r) >= 0.8 for r in right.values())
