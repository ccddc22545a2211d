"""Data discovery and the split manifest."""

import pytest

from training.data import DatasetError, Split, discover, find_class_root, make_split

from conftest import CLASSES, make_dataset


def test_discover_kaggle_layout_hyphens_and_skips(tmp_path):
    root = make_dataset(tmp_path, per_class=10)
    data = discover(root)
    assert data.root.name == "hagrid-like-512p"
    assert data.labels == sorted(c.replace("-", "_") for c in CLASSES)  # blue-disc -> blue_disc
    assert data.counts() == {label: 10 for label in data.labels}
    assert data.skipped == {"not an image": 1, "corrupt or empty": 2}


def test_discover_plain_layout(tmp_path):
    data = discover(make_dataset(tmp_path, per_class=4, kaggle_layout=False))
    assert len(data.files) == 12 and data.root == tmp_path


NOT_A_DATA_SET = "is not a folder-per-class data set: expected at least two class folders"
EXPECTED = {"missing": "data folder not found", "empty": NOT_A_DATA_SET, "files_only": NOT_A_DATA_SET,
            "one_class": NOT_A_DATA_SET, "empty_class": "class folders without images under"}


@pytest.mark.parametrize("layout", ["missing", "empty", "files_only", "one_class", "empty_class"])
def test_bad_roots_are_one_line_errors(tmp_path, layout):
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "files_only":
        (root / "a.jpg").write_bytes(b"\xff\xd8\xff")
    if layout == "one_class":
        (root / "only").mkdir()
        (root / "only" / "a.jpg").write_bytes(b"\xff\xd8\xff")
    if layout == "empty_class":
        make_dataset(root, per_class=2, kaggle_layout=False)
        (root / "zzz_empty").mkdir()
    with pytest.raises(DatasetError) as err:
        discover(root)
    message = str(err.value)
    assert "\n" not in message and EXPECTED[layout] in message and str(root) in message, message
    if layout == "empty_class":
        assert "zzz_empty" in message  # names the folder to fix


def test_split_is_stratified_seeded_and_round_trips(tmp_path):
    data = discover(make_dataset(tmp_path, per_class=20))
    split = make_split(data, (0.8, 0.1, 0.1), seed=7)
    assert split.sizes() == {"train": 48, "val": 6, "test": 6}
    for subset in ("val", "test"):
        _, targets = split.files(subset)
        assert sorted(set(targets)) == [0, 1, 2] and all(targets.count(t) == 2 for t in range(3))
    all_files = sum((split.files(s)[0] for s in ("train", "val", "test")), [])
    assert sorted(all_files) == sorted(data.files)  # a partition: nothing lost or repeated
    assert make_split(data, (0.8, 0.1, 0.1), seed=7).subsets == split.subsets
    assert make_split(data, (0.8, 0.1, 0.1), seed=8).subsets != split.subsets
    split.save(tmp_path / "split.json")
    assert Split.load(tmp_path / "split.json").subsets == split.subsets


def test_tiny_classes_still_get_val_and_test(tmp_path):
    data = discover(make_dataset(tmp_path, per_class=3))
    sizes = make_split(data).sizes()
    assert sizes == {"train": 3, "val": 3, "test": 3}


def test_find_class_root_rejects_a_file(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("x")
    with pytest.raises(DatasetError, match="not found"):
        find_class_root(f)
