"""The data: the converter in data/build_mnist.py and the notebook's checked loader."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from data import build_mnist
from notebooks.notebook_tools import ROOT

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path: Path, array: np.ndarray) -> None:
    with gzip.open(path, "wb") as f:
        f.write(build_mnist.idx_bytes(array.astype(np.uint8)))


def make_source(folder: Path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A miniature MNIST in IDX format with a matching SHA256SUMS file."""
    arrays = {
        "x_train": rng.integers(0, 256, (7, 28, 28)),
        "y_train": rng.integers(0, 10, 7),
        "x_test": rng.integers(0, 256, (3, 28, 28)),
        "y_test": rng.integers(0, 10, 3),
    }
    for key, name in build_mnist.FILES.items():
        write_idx(folder / name, arrays[key])
    write_sums(folder)
    return arrays


def write_sums(folder: Path) -> None:
    lines = [
        f"{build_mnist.sha256_of(folder / name)}  {name}" for name in build_mnist.FILES.values()
    ]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def idx_hashes(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    """What the 'original' hashes of a synthetic source would be."""
    return {
        key: hashlib.sha256(build_mnist.idx_bytes(array)).hexdigest()
        for key, array in arrays.items()
    }


def test_committed_npz_holds_exactly_the_original_mnist_files() -> None:
    """Proof of origin on any clone: each array rebuilds, byte for byte, into the original IDX file
    whose published SHA-256 the build script pins (header, then every pixel or label)."""
    with np.load(ROOT / "data" / "mnist.npz", allow_pickle=False) as data:
        arrays = {key: data[key] for key in build_mnist.FILES}
    assert sorted(arrays) == sorted(build_mnist.IDX_SHA256)
    build_mnist.check_original(arrays)  # raises unless every array hashes to its pinned SHA-256


def test_one_changed_pixel_is_not_the_original() -> None:
    with np.load(ROOT / "data" / "mnist.npz", allow_pickle=False) as data:
        images = data["x_test"].copy()
    images[1234, 14, 14] ^= 1
    with pytest.raises(ValueError, match="x_test is not the original MNIST t10k-images"):
        build_mnist.check_original({"x_test": images})


def test_idx_bytes_is_what_read_idx_reads(tmp_path: Path) -> None:
    array = np.random.default_rng(4).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    path = tmp_path / "images.gz"
    write_idx(path, array)
    np.testing.assert_array_equal(build_mnist.read_idx(path, 3), array)
    header = build_mnist.idx_bytes(array)[
        :16
    ]  # magic number 0x00000803, then 3, 28, 28, big-endian
    assert header == bytes.fromhex("00000803") + b"".join(n.to_bytes(4, "big") for n in (3, 28, 28))


def test_build_converts_idx_to_keras_layout(tmp_path: Path) -> None:
    arrays = make_source(tmp_path, np.random.default_rng(0))
    out = tmp_path / "mnist.npz"
    digest = build_mnist.build(tmp_path, out, expected=idx_hashes(arrays))
    assert digest == hashlib.sha256(out.read_bytes()).hexdigest()
    with np.load(out) as data:
        assert sorted(data.files) == ["x_test", "x_train", "y_test", "y_train"]
        for key, expected in arrays.items():
            assert data[key].dtype == np.uint8
            np.testing.assert_array_equal(data[key], expected)


def test_build_is_reproducible(tmp_path: Path) -> None:
    """Two builds give the same bytes, and not by luck of timing: every member of the zip carries a
    fixed time stamp and mode (np.savez_compressed would stamp the clock, which zip rounds to 2
    seconds)."""
    expected = idx_hashes(make_source(tmp_path, np.random.default_rng(1)))
    first = build_mnist.build(tmp_path, tmp_path / "a.npz", expected)
    second = build_mnist.build(tmp_path, tmp_path / "b.npz", expected)
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.npz") as archive:
        members = archive.infolist()
    assert [m.filename for m in members] == [
        "x_test.npy",
        "x_train.npy",
        "y_test.npy",
        "y_train.npy",
    ]
    assert {m.date_time for m in members} == {(1980, 1, 1, 0, 0, 0)}
    assert {m.external_attr >> 16 for m in members} == {0o644}


def test_build_refuses_files_that_are_not_the_original_mnist(tmp_path: Path) -> None:
    """Files that match their own SHA256SUMS but are not MNIST (a consistent, wrong source) are
    refused."""
    make_source(tmp_path, np.random.default_rng(5))
    with pytest.raises(ValueError, match="is not the original MNIST"):
        build_mnist.build(tmp_path, tmp_path / "mnist.npz")


def test_build_refuses_a_file_that_fails_its_checksum(tmp_path: Path) -> None:
    make_source(tmp_path, np.random.default_rng(2))
    labels = tmp_path / build_mnist.FILES["y_test"]
    labels.write_bytes(labels.read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"checksum mismatch.*t10k-labels"):
        build_mnist.build(tmp_path, tmp_path / "mnist.npz")


def test_build_refuses_a_missing_file(tmp_path: Path) -> None:
    make_source(tmp_path, np.random.default_rng(3))
    (tmp_path / build_mnist.FILES["x_train"]).unlink()
    with pytest.raises(FileNotFoundError, match="train-images"):
        build_mnist.build(tmp_path, tmp_path / "mnist.npz")


@pytest.mark.parametrize(
    ("magic", "shape", "message"),
    [(0x00000801, (2, 28, 28), "magic number"), (0x00000803, (5, 28, 28), "header says")],
)
def test_read_idx_rejects_a_bad_header(
    tmp_path: Path, magic: int, shape: tuple, message: str
) -> None:
    path = tmp_path / "images.gz"
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape)
    with gzip.open(path, "wb") as f:
        f.write(header + bytes(2 * 28 * 28))
    with pytest.raises(ValueError, match=message):
        build_mnist.read_idx(path, 3)


def test_the_build_command_writes_the_file_and_prints_its_checksum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``python data/build_mnist.py --source DIR --out FILE`` end to end, on a miniature MNIST that
    the test writes (four IDX files and their SHA256SUMS). The pinned hashes of the original files
    are, for this test only, the miniature's: with the real ones it is refused (a test above)."""
    source = tmp_path / "source"
    source.mkdir()
    arrays = make_source(source, np.random.default_rng(6))
    for key, digest in idx_hashes(arrays).items():
        monkeypatch.setitem(build_mnist.IDX_SHA256, key, digest)
    out = tmp_path / "data" / "mnist.npz"
    build_mnist.main(["--source", str(source), "--out", str(out)])
    assert capsys.readouterr().out == f"wrote mnist.npz  sha256 {build_mnist.sha256_of(out)}\n"
    with np.load(out, allow_pickle=False) as data:
        for key, expected in arrays.items():
            np.testing.assert_array_equal(data[key], expected)


def test_committed_npz_is_packed_as_the_build_packs_it(tmp_path: Path) -> None:
    """The test above proves the arrays on every clone; this one the file around them: its members
    are named, stamped, permitted and compressed as write_npz makes them, and the labels, small
    enough to pack again here, give the very same members (checksums, sizes, compressed sizes)."""
    committed = ROOT / "data" / "mnist.npz"
    with np.load(committed, allow_pickle=False) as data:
        labels = {key: data[key] for key in ("y_train", "y_test")}
    build_mnist.write_npz(labels, tmp_path / "labels.npz")

    def members(path: Path) -> dict[str, tuple]:
        """Each member's time stamp, mode and compression, then checksum and sizes."""
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
        packing = {m.filename: (m.date_time, m.external_attr >> 16, m.compress_type) for m in infos}
        return {
            m.filename: (*packing[m.filename], m.CRC, m.file_size, m.compress_size) for m in infos
        }

    found = members(committed)
    assert list(found) == ["x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"]
    assert {info[:3] for info in found.values()} == {
        ((1980, 1, 1, 0, 0, 0), 0o644, zipfile.ZIP_DEFLATED)
    }
    assert {name: info for name, info in found.items() if name.startswith("y_")} == members(
        tmp_path / "labels.npz"
    )


def test_data_readme_states_the_checksum_of_the_committed_file() -> None:
    digest = build_mnist.sha256_of(ROOT / "data" / "mnist.npz")
    assert digest in (ROOT / "data" / "README.md").read_text()


def test_notebook_loads_mnist_with_the_right_shapes_and_counts(notebook_functions: dict) -> None:
    (x_train, y_train), (x_test, y_test) = notebook_functions["load_mnist"](
        ROOT / "data" / "mnist.npz"
    )
    assert (x_train.shape, x_train.dtype) == ((60000, 28, 28), np.uint8)
    assert (y_train.shape, y_train.dtype) == ((60000,), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((10000, 28, 28), np.uint8)
    assert (y_test.shape, y_test.dtype) == ((10000,), np.uint8)
    assert np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == TEST_COUNTS
    assert abs(x_train.mean() / 255 - 0.1307) < 1e-4


@pytest.mark.parametrize("damage", ["one flipped byte", "truncated"])
def test_notebook_refuses_a_damaged_file(
    notebook_functions: dict, tmp_path: Path, damage: str
) -> None:
    data = bytearray((ROOT / "data" / "mnist.npz").read_bytes())
    if damage == "truncated":
        data = data[:1_000_000]
    else:
        data[5000] ^= 0xFF
    damaged = tmp_path / "mnist.npz"
    damaged.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ValueError, match="failed its checksum") as caught:
        notebook_functions["load_mnist"](damaged)
    assert str(damaged) in str(caught.value)
    assert notebook_functions["MNIST_SHA256"] in str(caught.value) and actual in str(caught.value)


def test_notebook_downloads_when_there_is_no_local_copy(
    notebook_functions: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    keras = notebook_functions["keras"]
    fake = ((np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)),) * 2
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    assert notebook_functions["load_mnist"](tmp_path / "absent.npz") == fake
    assert "not found: downloading it with keras.datasets.mnist" in capsys.readouterr().out


def test_notebook_explains_a_failed_download(
    notebook_functions: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keras = notebook_functions["keras"]

    def offline():
        raise OSError("no network")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(
        RuntimeError,
        match=r"absent\.npz is missing and MNIST could not be downloaded \(no network\)",
    ):
        notebook_functions["load_mnist"](tmp_path / "absent.npz")
