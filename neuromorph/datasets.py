"""Offline data sets: scikit-learn digits, MNIST-style IDX files, a procedural 1-D task.

Nothing here downloads anything.

* :func:`load_digits_split` — scikit-learn's 8×8 digits (1797 images, 10 classes),
  scaled to [0, 1] and split 80/20 with a fixed seed (stratified).
* :func:`read_idx` / :func:`write_idx` — the IDX format of the MNIST distribution
  (big-endian magic ``0x0000TTDD``: type code TT, number of dimensions DD, then DD
  big-endian uint32 sizes, then the data), optionally gzip-compressed.
* :func:`make_mnist1d` — a procedurally generated, harder 1-D classification task in
  the spirit of MNIST-1D (Greydanus 2020): ten template signals, randomly padded,
  shifted, scaled, sheared, blurred and corrupted with correlated noise.
* :func:`make_mnist1d_like` — the same task as a sequence benchmark for the temporal
  learners (one sample of the signal per time step).
"""
import gzip
import os

import numpy as np

from ._checks import number

_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("=").kind + str(dt.itemsize): code for code, dt in _IDX_TYPES.items()}


def load_digits_split(test_size=0.2, random_state=0):
    """scikit-learn digits, pixels scaled to [0, 1], fixed seeded stratified split.

    Parameters
    ----------
    test_size : float in (0, 1)
        Fraction of samples held out (default 0.2: the 80/20 split of the comparisons).
    random_state : int
        Seed of the split; the default 0 is the project's fixed split.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarrays
        Float64 inputs of shape (n, 64) and int labels 0..9.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    number("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float64) / 16.0
    return train_test_split(X, y, test_size=test_size, random_state=random_state, stratify=y)


def _open(path, mode):
    return gzip.open(path, mode) if str(path).endswith(".gz") else open(path, mode)


def read_idx(path):
    """Read an IDX file (``.gz`` is decompressed) into a NumPy array.

    Raises
    ------
    ValueError
        If the magic number is malformed, the type code unknown, or the payload size
        does not match the header (a truncated or corrupt file is never half-read).
    """
    with _open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic number must start with two zero bytes)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X}; known: "
                         f"{[hex(c) for c in _IDX_TYPES]}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX payload has {len(raw)} bytes, header says {expected}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array):
    """Write ``array`` as an IDX file (gzip-compressed if ``path`` ends in ``.gz``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64.
    """
    a = np.asarray(array)
    key = a.dtype.kind + str(a.dtype.itemsize)
    if key not in _IDX_CODES or a.ndim > 255:
        raise ValueError(f"array dtype {a.dtype} is not representable in IDX "
                         "(uint8, int8, int16, int32, float32, float64)")
    code = _IDX_CODES[key]
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    with _open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(a, dtype=_IDX_TYPES[code]).tobytes())


def load_mnist_idx(directory, kind="train"):
    """Load ``{kind}-images-idx3-ubyte[.gz]`` and ``{kind}-labels-idx1-ubyte[.gz]``.

    Returns images flattened to (n, rows·cols) float64 in [0, 1] and int labels.
    ``kind`` is ``"train"`` or ``"t10k"`` (the MNIST file prefixes).
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")

    def find(stem):
        for name in (stem, stem + ".gz"):
            p = os.path.join(directory, name)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(f"{stem}[.gz] not found in {directory}")

    images = read_idx(find(f"{kind}-images-idx3-ubyte"))
    labels = read_idx(find(f"{kind}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"IDX shapes do not match MNIST layout: images {images.shape}, "
                         f"labels {labels.shape}")
    return images.reshape(len(images), -1).astype(np.float64) / 255.0, labels.astype(np.int64)


def load_image_task(data_dir=None, n_train=None):
    """The image-classification task of the experiment scripts.

    Parameters
    ----------
    data_dir : str or None
        Folder with MNIST-format IDX files (``train-*`` and ``t10k-*``, optionally
        gzipped); ``None``: scikit-learn digits with the fixed split of
        :func:`load_digits_split`.
    n_train : int or None
        Keep only the first ``n_train`` training images of the IDX training set.

    Returns
    -------
    Xtr, Xte, ytr, yte, name
        Pixels in [0, 1], int labels, and ``"mnist"`` or ``"digits"``.
    """
    if n_train is not None:
        number("n_train", n_train, low=1, integer=True)
    if data_dir:
        Xtr, ytr = load_mnist_idx(data_dir, "train")
        Xte, yte = load_mnist_idx(data_dir, "t10k")
        if n_train:
            Xtr, ytr = Xtr[:n_train], ytr[:n_train]
        return Xtr, Xte, ytr, yte, "mnist"
    Xtr, Xte, ytr, yte = load_digits_split()
    return Xtr, Xte, ytr, yte, "digits"


def _templates(length):
    """Ten distinct 1-D template shapes sampled at ``length`` points."""
    t = np.linspace(0.0, 1.0, length)
    return np.stack([
        np.exp(-((t - 0.5) / 0.08) ** 2),                      # single bump
        np.exp(-((t - 0.3) / 0.06) ** 2) + np.exp(-((t - 0.7) / 0.06) ** 2),  # two bumps
        np.sin(2 * np.pi * t),                                 # one period
        np.sin(4 * np.pi * t),                                 # two periods
        2 * t - 1,                                             # ramp up
        1 - 2 * t,                                             # ramp down
        np.where(t < 0.5, 1.0, -1.0),                          # step
        np.abs(2 * t - 1) * 2 - 1,                             # V shape
        np.sign(np.sin(6 * np.pi * t)),                        # square wave
        np.exp(-((t - 0.5) / 0.2) ** 2) - np.exp(-((t - 0.5) / 0.05) ** 2) * 1.5,  # Mexican hat
    ])


def make_mnist1d(n_samples=4000, length=40, noise=0.1, random_state=0):
    """Generate an MNIST-1D-like task: 10 classes of noisy, transformed 1-D signals.

    Each sample takes its class template (12 points), pads it randomly, shifts it
    circularly, scales its amplitude, adds a linear shear and smooth correlated noise
    plus white noise, then resamples it to ``length`` points. The transformations make
    a linear model fail while an MLP can learn the task (a harder second benchmark
    than digits).

    Parameters
    ----------
    n_samples : int > 0
    length : int >= 12
        Number of features per sample.
    noise : float >= 0
        Standard deviation of the white noise (correlated noise scales with it).
    random_state : int

    Returns
    -------
    X : ndarray (n_samples, length), y : ndarray (n_samples,) int in 0..9
    """
    number("n_samples", n_samples, low=1, integer=True)
    number("length", length, low=12, integer=True)
    number("noise", noise, low=0)
    rng = np.random.default_rng(random_state)
    base = _templates(12)
    y = rng.integers(0, 10, size=n_samples)
    grid = np.linspace(0, 1, length)
    X = np.empty((n_samples, length))
    for i, c in enumerate(y):
        pad_l, pad_r = rng.integers(4, 16, size=2)
        sig = np.concatenate([np.zeros(pad_l), base[c] * rng.uniform(0.6, 1.4), np.zeros(pad_r)])
        sig = np.roll(sig, rng.integers(-6, 7))
        src = np.linspace(0, 1, len(sig))
        sig = np.interp(grid, src, sig)
        sig += rng.normal(0, 0.5) * (grid - 0.5)  # shear
        corr = np.convolve(rng.normal(0, noise, length + 8), np.ones(9) / 3.0, mode="valid")
        X[i] = sig + corr + rng.normal(0, noise, length)
    return X, y


def make_mnist1d_like(n_samples=4000, length=40, random_state=None):
    """The MNIST-1D-like task (Greydanus 2020) as a sequence benchmark.

    Ten class templates of 1-D patterns, each randomly padded, shifted, scaled,
    sheared and corrupted with correlated and white noise (noise level 0.1), resampled
    to ``length`` points: the generator of :func:`make_mnist1d`. Generated, never
    downloaded. Read as a sequence, feature t is the signal at time step t, so the
    temporal learners take ``n_steps=length`` (one value per step); a classifier that
    ignores order sees the same ``length`` features.

    Parameters
    ----------
    n_samples : int > 0
        Number of sequences.
    length : int >= 12
        Time steps (features) per sequence.
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same data, None a fresh draw.

    Returns
    -------
    X : ndarray (n_samples, length)
        Float64 signals (dimensionless amplitude, templates in [−1.5, 1.4] before noise).
    y : ndarray (n_samples,)
        Int class labels 0..9 (uniformly drawn).
    """
    return make_mnist1d(n_samples=n_samples, length=length, noise=0.1, random_state=random_state)
