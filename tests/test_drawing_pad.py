"""The drawing pad's Python side: canvas data → image → prepare_digit → the network and what it
computes inside, as the widget calls it, and what the widget sends to the browser.

The browser side is tested in a real browser by test_browser.py; here the widget runs without a
frontend.
"""

from __future__ import annotations

import base64
import collections
import json
import re
import struct
import zlib

import cv2
import numpy as np
import pytest

from tests.drawings import draw_digit, grid


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
    """An untrained network, section 19's look inside it, and a map fitted on 500 random feature
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
PNG_URL = "data:image/png;base64,"


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data and its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, rows: int) -> bytes:
    """A small PNG, well-formed chunk by chunk, whose header declares ``width`` × ``height`` RGBA
    pixels and whose data holds ``rows`` black rows of them."""
    packer, row = zlib.compressobj(9), b"\x00" * (4 * width + 1)
    rows = b"".join(packer.compress(row) for _ in range(rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def malformed(case: str, size: int) -> str | None:
    """What a broken or hostile browser side could send instead of a ``size``×``size`` drawing."""
    good = cv2.imencode(".png", np.zeros((size, size), np.uint8))[1].tobytes()
    as_url = lambda png: PNG_URL + base64.b64encode(png).decode()  # noqa: E731
    return {
        "not a data URL": "just some text",
        "no text at all": None,
        "a JPEG": data_url(np.zeros((size, size), np.uint8), ".jpg"),
        "nothing after the prefix": PNG_URL,
        "bad base64": PNG_URL + "***",
        "not a PNG": PNG_URL + TEXT,
        "a PNG of another size": data_url(np.zeros((100, 100), np.uint8)),
        "a PNG that claims 30,000 × 30,000 pixels": as_url(png_claiming(30_000, 30_000, 4)),
        "a truncated PNG": as_url(good[: len(good) // 2]),
        "a PNG that stops after its header": as_url(good[:33]),
        "a PNG whose pixels are damaged": as_url(good[:41] + bytes(8) + good[49:]),
        "a message too long for any drawing": PNG_URL + "A" * (3 * 4 * size * size),
    }[case]


MALFORMED = {
    "not a data URL": "PNG data URL",
    "no text at all": "PNG data URL",
    "a JPEG": "PNG data URL",
    "nothing after the prefix": "empty",
    "bad base64": "not valid base64",
    "not a PNG": "not a PNG image",
    "a PNG of another size": "expected a 280×280 drawing, got 100×100",
    "a PNG that claims 30,000 × 30,000 pixels": "expected a 280×280 drawing, got 30000×30000",
    "a truncated PNG": "damaged or incomplete",
    "a PNG that stops after its header": "damaged or incomplete",
    "a PNG whose pixels are damaged": "damaged or incomplete",
    "a message too long for any drawing": "message is too long",
}


@pytest.mark.parametrize(("case", "message"), MALFORMED.items())
def test_bad_canvas_data_gets_a_clear_error(
    notebook_functions: dict, case: str, message: str
) -> None:
    size = notebook_functions["PAD_SIZE"]
    with pytest.raises(ValueError, match=message.replace("280", str(size))):
        notebook_functions["decode_drawing"](malformed(case, size))


def test_the_size_is_checked_before_any_pixel_is_decoded(
    notebook_functions: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No malformed message reaches OpenCV's decoder, except a PNG whose size and chunks are right
    but whose pixels are damaged: a PNG that claims 30,000 × 30,000 pixels would make it allocate
    gigabytes. A good drawing is decoded once."""
    cv2_module, decoded = notebook_functions["cv2"], []
    real = cv2_module.imdecode
    monkeypatch.setattr(cv2_module, "imdecode", lambda *a: decoded.append(a) or real(*a))
    size, decode = notebook_functions["PAD_SIZE"], notebook_functions["decode_drawing"]
    for case in MALFORMED:
        with pytest.raises(ValueError):
            decode(malformed(case, size))
        assert len(decoded) == (case == "a PNG whose pixels are damaged"), case
        decoded.clear()
    assert decode(data_url(np.zeros((size, size), np.uint8))).shape == (size, size)
    assert len(decoded) == 1


def test_the_pad_shows_each_bad_message_and_reads_the_next_stroke(
    notebook_functions: dict, untrained: dict
) -> None:
    """The widget shows each malformed message's reason on the pad, raises nothing, and reads the
    drawing sent after it."""
    pad = notebook_functions["DrawingPad"](
        untrained["model"], untrained["projection"], untrained["features"], untrained["labels"]
    )
    good, size = data_url(as_canvas(draw_digit("7"))), notebook_functions["PAD_SIZE"]
    for case, message in MALFORMED.items():
        bad = malformed(case, size)
        if bad is None:  # the trait holds text: a browser can only send a string
            continue
        pad.drawing = bad
        assert pad.digit == -1 and pad.maps == [], case
        assert re.search(message.replace("280", str(size)), pad.message), (case, pad.message)
        pad.drawing = good
        assert 0 <= pad.digit <= 9 and pad.message == "" and len(pad.maps) == 3, case


def test_a_blank_pad_has_no_ink(notebook_functions: dict, untrained: dict) -> None:
    size = notebook_functions["PAD_SIZE"]
    blank = data_url(as_canvas(np.zeros((size, size), np.uint8)))
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
        "heat",
        "heat_digits",
        "point",
        "message",
    }
    assert synced | {"map_image"} <= set(pad.get_state())  # what the browser side reads and writes
    assert (pad.digit, pad.message, pad.size) == (
        -1,
        "Draw a digit",
        notebook_functions["PAD_SIZE"],
    )
    pad.drawing = "data:image/png;base64,***"  # what a broken browser might send
    assert pad.digit == -1 and "not valid base64" in pad.message
    pad.drawing = data_url(as_canvas(np.zeros((pad.size, pad.size), np.uint8)))
    assert pad.digit == -1 and "no ink found" in pad.message and pad.maps == [] and pad.point == []
    canvas = as_canvas(draw_digit("1"))
    pad.drawing = data_url(canvas)
    assert 0 <= pad.digit <= 9 and pad.message == "" and len(pad.probabilities) == 10
    assert len(pad.maps) == 3 and len(pad.point) == 2 and pad.heat_digits[0] == pad.digit
    np.testing.assert_allclose(
        png_of(pad.preview) / 255, notebook_functions["prepare_digit"](canvas), atol=0.5 / 255
    )
    pad.drawing = ""  # the Clear button
    assert (pad.digit, pad.probabilities, pad.preview, pad.maps, pad.point, pad.message) == (
        -1, [], "", [], [], "Draw a digit")  # fmt: skip
    assert (pad.heat, pad.heat_digits) == ("", [])


@pytest.fixture(scope="module")
def trained_pad(trained_notebook: dict) -> dict:
    """The widget over the tests' trained model and section 20's map of 2,000 validation images."""
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


def test_the_widget_sends_what_section_20_computes(trained_pad: dict) -> None:
    """For a drawn digit: the maps the widget sends are each block's 8 most active channels of
    feature_maps(prepare_digit(drawing)), coloured as section 20 colours them; the point is the
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
        for name in ("digit", "probabilities", "preview", "maps", "heat", "heat_digits", "point")
    )
    print(f"what the widget sends for one stroke: {message:,} bytes")
    assert message < 16_000  # a few kB: four small PNGs, a 28×28 PNG and a few numbers


@pytest.mark.parametrize("runner_up", [None, 0.0, 1.01])  # the notebook's; always; never
def test_the_widget_sends_section_18s_heat_maps(
    trained_pad: dict, runner_up: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heat picture the widget sends is heat_picture() of occlusion() for the same 28×28
    image: the answer's map, then, after a white column, the runner-up's when it scores at least
    RUNNER_UP, and only then."""
    ns, pad = trained_pad, trained_pad["pad"]
    if runner_up is not None:
        monkeypatch.setitem(ns["heat_view"].__globals__, "RUNNER_UP", runner_up)
    sizes = set()
    for digit in "3817":
        canvas = as_canvas(draw_digit(digit))
        pad.drawing = ""  # so that the drawing is new to the pad, whatever it showed before
        pad.drawing = data_url(canvas)
        seen = ns["prepare_digit"](canvas)
        scores, heat = ns["occlusion"](ns["model"], seen)
        ranked, threshold = np.argsort(-scores), ns["heat_view"].__globals__["RUNNER_UP"]
        expected = list(ranked[:2] if scores[ranked[1]] >= threshold else ranked[:1])
        assert pad.heat_digits == expected and expected[0] == pad.digit
        sent = png_of(pad.heat)
        assert sent.shape == (28, 29 * len(expected) - 1, 3)
        for k, d in enumerate(expected):
            np.testing.assert_array_equal(
                sent[:, 29 * k : 29 * k + 28], ns["heat_picture"](seen, heat[:, :, d])
            )
        if len(expected) == 2:
            assert np.all(sent[:, 28] == 255)
        sizes.add(len(expected))
    assert runner_up is None or sizes == {1 if runner_up > 1 else 2}


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
