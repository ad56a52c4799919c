"""Build ``data/mnist.npz`` from the original MNIST IDX files.

Usage (from the repository root)::

    python data/build_mnist.py                      # reads ../shared/mnist
    python data/build_mnist.py --source DIR --out data/mnist.npz

The four ``*-ubyte.gz`` files are checked against the ``SHA256SUMS`` file that
sits beside them before anything is read, and their uncompressed contents
against the published SHA-256 of the original MNIST files (``IDX_SHA256``). The
result uses the layout of Keras's own ``mnist.npz`` (``x_train``, ``y_train``,
``x_test``, ``y_test``, all uint8) and is byte-for-byte reproducible: rebuilding
gives the same SHA-256. ``idx_bytes`` turns an array back into the original
file's bytes, which is how the tests prove, on any clone, that ``mnist.npz``
holds exactly the original data.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# The SHA-256 of the four original MNIST files, uncompressed: the values that independent MNIST
# loaders pin for the standard mirrors of the original files
# (storage.googleapis.com/cvdf-datasets/mnist/, say).
IDX_SHA256 = {
    "x_train": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "y_train": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "x_test": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "y_test": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
# IDX magic numbers: 0x0000 + type code (0x08 = unsigned byte) + number of dimensions.
MAGIC = {3: 0x00000803, 1: 0x00000801}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(source: Path) -> None:
    """Check every file named in ``FILES`` against ``source/SHA256SUMS``."""
    sums_file = source / "SHA256SUMS"
    if not sums_file.is_file():
        raise FileNotFoundError(f"{sums_file} not found: cannot verify the MNIST files")
    expected = {}
    for line in sums_file.read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            expected[name.lstrip("*")] = digest
    for name in FILES.values():
        path = source / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found")
        if name not in expected:
            raise ValueError(f"{sums_file} has no checksum for {name}")
        actual = sha256_of(path)
        if actual != expected[name]:
            message = f"checksum mismatch for {path}: expected {expected[name]}, got {actual}"
            raise ValueError(message)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX file that holds ``array`` (uint8): big-endian header, then the values in row-major
    order."""
    sizes = b"".join(n.to_bytes(4, "big") for n in array.shape)
    header = MAGIC[array.ndim].to_bytes(4, "big") + sizes
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def check_original(arrays: dict[str, np.ndarray], expected: dict[str, str] = IDX_SHA256) -> None:
    """Raise ValueError unless each array is exactly the original MNIST file of its name."""
    for key, array in arrays.items():
        actual = hashlib.sha256(idx_bytes(array)).hexdigest()
        if actual != expected[key]:
            raise ValueError(f"{key} is not the original MNIST {FILES[key]}: SHA-256 {actual}")


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Read one gzip-compressed IDX file of unsigned bytes with ``ndim`` dimensions."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: file too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    if magic != MAGIC[ndim]:
        raise ValueError(f"{path}: magic number {magic:#010x}, expected {MAGIC[ndim]:#010x}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, but the file holds {data.size} values")
    return data.reshape(shape)


def write_npz(arrays: dict[str, np.ndarray], out: Path) -> None:
    """Like ``np.savez_compressed``, but with fixed timestamps so the bytes are reproducible."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            array = np.ascontiguousarray(arrays[name])
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def build(source: Path, out: Path, expected: dict[str, str] = IDX_SHA256) -> str:
    """Verify, convert and write; return the SHA-256 of the written file."""
    verify_checksums(source)
    arrays = {
        key: read_idx(source / name, 3 if key.startswith("x") else 1) for key, name in FILES.items()
    }
    check_original(arrays, expected)
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise ValueError(f"{split}: number of images and labels differ")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_npz(arrays, out)
    return sha256_of(out)


def main(argv: list[str] | None = None) -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=here.parent.parent / "shared" / "mnist")
    parser.add_argument("--out", type=Path, default=here / "mnist.npz")
    args = parser.parse_args(argv)
    digest = build(args.source, args.out)
    print(f"wrote {args.out.name}  sha256 {digest}")


if __name__ == "__main__":
    main()
