import gzip

import numpy as np
import pytest

from neuromorph.datasets import load_digits_split, load_mnist_idx, make_mnist1d, read_idx, write_idx


def test_digits_split_is_fixed_stratified_80_20():
    Xtr, Xte, ytr, yte = load_digits_split()
    assert Xtr.shape == (1437, 64) and Xte.shape == (360, 64)
    assert Xtr.min() >= 0 and Xtr.max() <= 1
    # stratified: every class's share in the test set is within one sample of 20 %
    for c in range(10):
        n_c = np.sum(ytr == c) + np.sum(yte == c)
        assert abs(np.sum(yte == c) - 0.2 * n_c) <= 1
    again = load_digits_split()
    assert all(np.array_equal(a, b) for a, b in zip((Xtr, Xte, ytr, yte), again))
    other = load_digits_split(random_state=1)
    assert not np.array_equal(other[3], yte)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_roundtrip(tmp_path, dtype, suffix):
    a = (np.arange(2 * 3 * 4) % 100).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_idx_header_is_the_mnist_layout(tmp_path):
    # hand-written file: magic 0x00000801 (uint8, 1 dim), size 3 big-endian, data
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    assert read_idx(path).tolist() == [7, 2, 9]
    write_idx(tmp_path / "again", np.array([7, 2, 9], dtype=np.uint8))
    assert (tmp_path / "again").read_bytes() == path.read_bytes()


def test_idx_corrupt_files_raise(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(bytes([1, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad)
    bad.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 1]))
    with pytest.raises(ValueError, match="type code"):
        read_idx(bad)
    bad.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))  # truncated payload
    with pytest.raises(ValueError, match="payload"):
        read_idx(bad)
    with pytest.raises(ValueError, match="dtype"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.complex128))


def test_load_mnist_idx_directory(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    X, y = load_mnist_idx(tmp_path, "t10k")
    assert X.shape == (5, 12) and np.allclose(X * 255, imgs.reshape(5, -1))
    assert y.tolist() == [0, 1, 2, 3, 4]
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz") as f:
        assert f.read(4) == bytes([0, 0, 8, 3])
    with pytest.raises(FileNotFoundError):
        load_mnist_idx(tmp_path, "train")
    with pytest.raises(ValueError, match="kind"):
        load_mnist_idx(tmp_path, "test")


def test_mnist1d_is_deterministic_and_nonlinear():
    X, y = make_mnist1d(n_samples=1500, random_state=4)
    X2, y2 = make_mnist1d(n_samples=1500, random_state=4)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert X.shape == (1500, 40) and set(np.unique(y)) == set(range(10))
    # harder than digits: a linear model is far from perfect, but well above chance
    from sklearn.linear_model import LogisticRegression

    acc = LogisticRegression(max_iter=500).fit(X[:1200], y[:1200]).score(X[1200:], y[1200:])
    assert 0.15 < acc < 0.6
    with pytest.raises(ValueError, match="length"):
        make_mnist1d(length=5)
    with pytest.raises(ValueError, match="noise"):
        make_mnist1d(noise=-1.0)


def test_load_image_task_reads_idx_folders_or_falls_back_to_digits(tmp_path):
    from neuromorph.datasets import load_image_task

    rng = np.random.default_rng(1)
    imgs = rng.integers(0, 256, (9, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 9).astype(np.uint8)
    for prefix in ("train", "t10k"):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", imgs)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels)
    Xtr, Xte, ytr, yte, name = load_image_task(str(tmp_path), n_train=4)
    assert name == "mnist" and Xtr.shape == (4, 784) and Xte.shape == (9, 784)
    np.testing.assert_allclose(Xte[2], imgs[2].ravel() / 255.0)
    np.testing.assert_array_equal(ytr, labels[:4])
    *digits, name = load_image_task()
    assert name == "digits"
    for a, b in zip(digits, load_digits_split()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n_train"):
        load_image_task(str(tmp_path), n_train=0)
    with pytest.raises(FileNotFoundError, match="train-images"):
        load_image_task(str(tmp_path / "missing"))
