"""Is section 18's heat map faithful? A deletion test: cover the patches that the map ranks highest
and see the answer's probability fall, against covering as many random patches that hold ink.

    python -m benchmarks.occlusion               # the first 500 validation digits
    python -m benchmarks.occlusion --digits 1000

It reads the model that the notebook's last full run saved (``models/mnist_cnn.keras``), runs the
notebook's own cells for the validation images and ``occlusion`` (by their tags), and for each digit
covers, with blank paper, the ``k`` patches whose mean over the answer's map is highest, or ``k``
patches drawn at random among those holding ink (a pixel above 0.5), for k = 1 to 5. It prints the
answer's mean probability and the share of digits read differently after each, and writes
``outputs/occlusion.json``. A faithful map makes the first fall faster than the second.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.runs import refuse_overrides, write_results
from notebooks.notebook_tools import output_root, run_tagged_cells

COUNTS = (1, 2, 3, 4, 5)  # patches covered


def deletion_curves(
    cells: dict, model, images: np.ndarray, counts=COUNTS, seed: int = 0
) -> dict[str, list[float] | float | int]:
    """For each image, the answer's probability after covering the ``k`` patches that
    ``cells["occlusion"]``'s map ranks highest, and ``k`` random patches holding ink, for each
    ``k`` of ``counts``: the means over the images, and the share of images read differently."""
    occlusion, corners, patch = cells["occlusion"], cells["CORNERS"], cells["PATCH"]
    rng = np.random.default_rng(seed)
    whole, after, changed = [], {"map": [], "random": []}, {"map": [], "random": []}
    for image in images:
        scores, heat = occlusion(model, image)
        answer = int(scores.argmax())
        ranks = [heat[r : r + patch, c : c + patch, answer].mean() for r, c in corners]
        inked = [
            k for k, (r, c) in enumerate(corners) if image[r : r + patch, c : c + patch].max() > 0.5
        ]
        orders = {"map": np.argsort(ranks)[::-1], "random": rng.permutation(inked)}
        covered = []
        for order in orders.values():
            for n in counts:
                copy = np.array(image, np.float32).reshape(28, 28, 1)
                for k in order[:n]:
                    r, c = corners[k]
                    copy[r : r + patch, c : c + patch] = 0
                covered.append(copy)
        probabilities = np.asarray(model.predict_on_batch(np.stack(covered)))
        whole.append(scores[answer])
        for i, name in enumerate(orders):
            part = probabilities[i * len(counts) : (i + 1) * len(counts)]
            after[name].append(part[:, answer])
            changed[name].append(part.argmax(axis=1) != answer)
    return {
        "digits": len(images),
        "counts": list(counts),
        "whole": float(np.mean(whole)),
        **{f"{name}_probability": np.mean(after[name], axis=0).tolist() for name in after},
        **{f"{name}_changed": np.mean(changed[name], axis=0).tolist() for name in changed},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=500, help="validation digits to test")
    digits = parser.parse_args(argv).digits
    refuse_overrides()
    path = output_root() / "models" / "mnist_cnn.keras"
    if not path.is_file():
        raise SystemExit(f"no model at {path}: run the notebook in full first (see the README)")
    cells = run_tagged_cells("preprocess", "occlusion")
    model = cells["keras"].models.load_model(path)
    result = deletion_curves(cells, model, cells["x_val"][:digits])
    print(
        f"{result['digits']} validation digits, the answer's mean probability "
        f"{result['whole']:.3f} before any patch is covered; after covering k patches of "
        f"{cells['PATCH']}×{cells['PATCH']} pixels:"
    )
    print(" k | ranked by the map: p, read differently | random ink patches: p, read differently")
    for i, k in enumerate(result["counts"]):
        print(
            f"{k:>2} | {result['map_probability'][i]:.3f}, {result['map_changed'][i]:6.1%}"
            f"{'':>20}| {result['random_probability'][i]:.3f}, {result['random_changed'][i]:6.1%}"
        )
    write_results(result, "occlusion.json")
    return result


if __name__ == "__main__":
    main()
