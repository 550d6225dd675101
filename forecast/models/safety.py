"""What makes a saved model folder safe to load: hashes, no pickles, an allow-list of types.

A model folder holds `manifest.json` and one model file: `.keras` (loaded in Keras safe
mode) or `.skops` (scikit-learn objects, loaded with `skops.io` and an explicit list of
trusted types). Before anything is deserialized, `check_folder` refuses a folder holding a
pickle-format file (.pkl, .pickle, .joblib: loading one runs any code it names) and any file
whose SHA-256 differs from the one recorded when it was saved. The hashes catch tampering
and corruption only: whoever rewrites a file can rewrite the manifest too. What keeps a
model from someone else from running code is the formats: skops builds only the types
`load_skops` allows, Keras safe mode refuses Lambda layers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from forecast.errors import StoreError
from forecast.user_code import one_line

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
# Types scikit-learn indexes into without bounds checks (skops leaves them out of its
# defaults): trusted only because `check_trees` bounds every index after loading.
HIST_TREE = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
SKLEARN_TREE = "sklearn.tree._tree.Tree"
CHECKED_TYPES = (HIST_TREE, SKLEARN_TREE)


def type_name(cls: type) -> str:
    """A class as skops names it: `module.QualName`."""
    return f"{cls.__module__}.{cls.__qualname__}"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_folder(folder: Path, files: Mapping[str, str]) -> None:
    """StoreError (one line) unless `folder` holds no pickle-format file and every file in
    `files` (name -> SHA-256 recorded at save) is there with that hash. Reads bytes only."""
    pickles = sorted(p.name for p in folder.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise StoreError(
            f"model folder {folder} holds {', '.join(pickles)}: pickle files can run any code "
            "when loaded and fcast never loads them; delete them, or retrain with `fcast train`"
        )
    if not isinstance(files, Mapping) or not files:
        raise StoreError(f"{folder / 'manifest.json'} records no file hashes; retrain the model")
    for name, recorded in files.items():
        path = folder / name
        if "/" in name or "\\" in name or name.startswith("."):
            raise StoreError(f"{folder / 'manifest.json'} names a file outside its folder: {name!r}")
        if not path.is_file():
            raise StoreError(f"model file {path} is missing beside its manifest")
        if sha256(path) != recorded:
            raise StoreError(
                f"model file {path} does not match the SHA-256 recorded when it was saved "
                "(modified or corrupted); retrain the model or restore the file"
            )


def load_skops(path: Path, allowed: Iterable[str]) -> Any:
    """The object in a `.skops` file, built only if every type it needs is in `allowed`
    (beyond skops's own safe defaults); StoreError naming the others otherwise."""
    import skops.io as sio

    allowed = set(allowed)
    check_unzipped_size(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is refused the same way
        raise StoreError(f"{path} is not a readable skops model file: {one_line(exc)}") from None
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise StoreError(
            f"{path} needs type(s) fcast does not load from a model file: {', '.join(refused)}"
        )
    try:
        obj = sio.load(path, trusted=sorted(untrusted))
    except Exception as exc:  # noqa: BLE001 - a crafted file may fail in any way
        raise StoreError(f"could not load {path}: {one_line(exc)}") from None
    check_trees(obj, path)
    return obj


# A .skops file is a zip archive: refuse one that would unpack to far more than it holds (a
# zip bomb runs no code, but 1.5 MB unpacking to 3.5 GB takes the machine's memory).
MAX_UNZIPPED_BYTES = 256 * 2**20
MAX_UNZIP_RATIO = 100


def check_unzipped_size(path: Path) -> None:
    """StoreError when the archive's members declare more than MAX_UNZIPPED_BYTES in all and
    more than MAX_UNZIP_RATIO times the file's size (zipfile never reads past a member's
    declared size, so the declaration bounds what loading takes)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(member.file_size for member in archive.infolist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise StoreError(f"{path} is not a readable skops model file: {one_line(exc)}") from None
    packed = max(path.stat().st_size, 1)
    if unzipped > MAX_UNZIPPED_BYTES and unzipped > MAX_UNZIP_RATIO * packed:
        raise StoreError(f"{path} would unpack to {unzipped / 2**20:,.0f} MiB from {packed / 2**20:,.1f} MiB "
                         "(a zip bomb?); fcast does not load it")


def check_trees(obj: Any, path: Path) -> None:
    """StoreError unless every decision tree in `obj` is well formed: children after their
    parent and inside the node array, features inside the model's inputs (scikit-learn
    would read out of bounds, or loop for ever, on a crafted one)."""
    from sklearn.ensemble._hist_gradient_boosting.gradient_boosting import (
        BaseHistGradientBoosting,
    )
    from sklearn.tree._classes import BaseDecisionTree
    from sklearn.tree._tree import Tree

    from forecast.models.lgbm import LightGBMModel

    for item in _walk(obj):
        if isinstance(item, LightGBMModel):
            check_lightgbm_text(getattr(item, "booster_text_", None), item, path)
        elif isinstance(item, BaseDecisionTree):
            # The Tree's own n_features bounds its feature indices below; it must be the
            # number of columns the estimator checks X for, or a crafted file could claim
            # more and make the tree read past each row.
            tree = getattr(item, "tree_", None)
            if isinstance(tree, Tree) and tree.n_features != getattr(item, "n_features_in_", None):
                raise StoreError(f"{path} holds a malformed decision tree (feature count differs)")
        elif isinstance(item, BaseHistGradientBoosting):
            n_features = getattr(item, "n_features_in_", None)
            for predictors in getattr(item, "_predictors", []):
                for predictor in predictors:
                    _check_hist_tree(predictor, n_features, path)
        elif isinstance(item, Tree):
            left, right = item.children_left, item.children_right
            inner = left != -1
            _check_nodes(len(left), left[inner], right[inner], np.flatnonzero(inner),
                         item.feature[inner], item.n_features, path)
            if not np.all(right[~inner] == -1) or len(item.value) != len(left):
                raise StoreError(f"{path} holds a malformed decision tree")


def _check_hist_tree(predictor, n_features, path: Path) -> None:
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = getattr(predictor, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or nodes.ndim != 1:
        raise StoreError(f"{path} holds a malformed gradient-boosting tree")
    inner = nodes["is_leaf"] == 0
    _check_nodes(len(nodes), nodes["left"][inner], nodes["right"][inner], np.flatnonzero(inner),
                 nodes["feature_idx"][inner], n_features, path)
    categorical = nodes["is_categorical"][inner] != 0
    if categorical.any():
        n_bitsets = min(len(predictor.binned_left_cat_bitsets), len(predictor.raw_left_cat_bitsets))
        if np.any(nodes["bitset_idx"][inner][categorical] >= n_bitsets):
            raise StoreError(f"{path} holds a malformed gradient-boosting tree")


def _check_nodes(n_nodes, left, right, position, feature, n_features, path: Path) -> None:
    left, right, feature = (np.asarray(a, dtype=np.int64) for a in (left, right, feature))
    ok = (
        n_nodes > 0
        and isinstance(n_features, (int, np.integer))
        and np.all((left > position) & (left < n_nodes) & (right > position) & (right < n_nodes))
        and np.all((feature >= 0) & (feature < n_features))
    )
    if not ok:
        raise StoreError(f"{path} holds a malformed decision tree (node or feature index out of range)")


def _walk(obj: Any, seen: set | None = None):
    """`obj` and every object reachable through attributes, lists, tuples, dicts and object arrays."""
    seen = set() if seen is None else seen
    stack = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float)):
            continue
        if isinstance(item, np.ndarray):
            if item.dtype == object:  # gradient boosting keeps its trees in one
                seen.add(id(item))
                stack.extend(item.ravel())
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set)):
            stack.extend(item)
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())


def check_lightgbm_text(text: Any, model, path: Path) -> None:
    """StoreError unless `text` is a LightGBM binary model whose trees are well formed, read in
    Python before LightGBM's C++ parser sees it: one output, feature indices inside the
    model's inputs, children after their parent and inside the tree, no categorical splits
    or linear leaves (fcast fits neither, and they carry further index arrays)."""
    bad = f"{path} holds a malformed LightGBM model"
    if not isinstance(text, str):
        raise StoreError(bad)
    try:
        n_features = int(model.n_tabular_features())
    except (AttributeError, TypeError, ValueError):
        raise StoreError(f"{bad} (no input shape)") from None
    header, _, rest = text.partition("\nTree=")
    fields = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)
    if (fields.get("num_class") != "1" or fields.get("num_tree_per_iteration") != "1"
            or not fields.get("objective", "").startswith("binary")
            or fields.get("max_feature_idx") != str(n_features - 1)):
        raise StoreError(f"{bad} (not a binary model on {n_features} input columns)")
    trees = ("Tree=" + rest).split("\nTree=") if rest else []
    for tree in trees:
        _check_lightgbm_tree(tree.split("end of trees")[0], n_features, bad)


def _check_lightgbm_tree(block: str, n_features: int, bad: str) -> None:
    fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)

    def ints(key: str, n: int) -> np.ndarray:
        values = fields.get(key, "").split()
        if len(values) != n:
            raise StoreError(f"{bad} ({key} has {len(values)} entries, expected {n})")
        try:
            return np.array([int(v) for v in values], dtype=np.int64)
        except ValueError:
            raise StoreError(f"{bad} ({key} is not integers)") from None

    try:
        n_leaves = int(fields.get("num_leaves", ""))
    except ValueError:
        raise StoreError(f"{bad} (num_leaves)") from None
    if n_leaves < 1 or fields.get("num_cat", "0") != "0" or fields.get("is_linear", "0") != "0":
        raise StoreError(f"{bad} (leaf count, categorical split or linear leaves)")
    n_inner = n_leaves - 1
    if len(fields.get("leaf_value", "").split()) != n_leaves:
        raise StoreError(f"{bad} (leaf_value)")
    if n_inner == 0:
        return
    feature, left, right = (ints(k, n_inner) for k in ("split_feature", "left_child", "right_child"))
    decision = ints("decision_type", n_inner)
    if len(fields.get("threshold", "").split()) != n_inner or np.any(decision & 1):
        raise StoreError(f"{bad} (threshold or categorical split)")
    position = np.arange(n_inner)
    for child in (left, right):
        inner_ok = (child > position) & (child < n_inner)
        leaf_ok = (child < 0) & (~child < n_leaves)
        if not np.all(inner_ok | leaf_ok):
            raise StoreError(f"{bad} (node index out of range)")
    if np.any((feature < 0) | (feature >= n_features)):
        raise StoreError(f"{bad} (feature index out of range)")
