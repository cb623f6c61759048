"""Small torch models and a scikit-learn-style classifier around them.

One model family with a depth/width knob gives both the cheap proxy and the
bigger target of Lab 4; the same wrapper trains either on ``cpu``, ``cuda``
or ``mps`` and returns plain numpy arrays.
"""

from __future__ import annotations

import numbers
import time

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from torch import nn
from tqdm.auto import tqdm

from .validation import as_seed_int, check_labels, check_positive_int, is_tensor

__all__ = ["MLP", "ResNetCIFAR", "SmallCNN", "SmallCNN1d", "TorchClassifier", "get_device"]

_KNOWN_DEVICES = ("cpu", "cuda", "mps")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(device=None) -> torch.device:
    """Pick the device to run on: ``cuda``, then ``mps``, then ``cpu``.

    Parameters
    ----------
    device : None, str or torch.device
        ``None`` picks the best available; a name (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"``) is checked for availability.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(f"device must be one of {_KNOWN_DEVICES} (optionally 'cuda:N'), got {device!r}.") from None
    else:
        raise TypeError(f"device must be None, a string or a torch.device, got {type(device).__name__}.")
    if dev.type not in _KNOWN_DEVICES:
        raise ValueError(f"device must be one of {_KNOWN_DEVICES}, got {str(dev)!r}.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA GPU is available here; use device='cpu'.")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device={str(dev)!r} does not exist: {torch.cuda.device_count()} CUDA device(s) found.")
    if dev.type == "mps" and not _mps_available():
        raise ValueError("device='mps' was asked for but Apple's MPS backend is not available here; use 'cpu'.")
    return dev


def _as_tuple(hidden, name: str) -> tuple[int, ...]:
    if isinstance(hidden, numbers.Integral):
        hidden = (hidden,)
    hidden = tuple(hidden)
    for h in hidden:
        check_positive_int(h, name)
    return hidden


class MLP(nn.Module):
    """A multilayer perceptron whose last hidden layer is the embedding.

    Parameters
    ----------
    in_features, n_classes : int
    hidden : int or tuple of int
        Widths of the hidden layers; ``()`` gives logistic regression.
    """

    def __init__(self, in_features: int, n_classes: int, hidden=(128,)):
        super().__init__()
        hidden = _as_tuple(hidden, "hidden")
        layers, width = [], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.body = nn.Sequential(nn.Flatten(), *layers)
        self.head = nn.Linear(width, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(nn.Module):
    """A small convolutional network; ``depth`` and ``width`` set its cost.

    ``depth`` 3x3 convolutions of ``width`` channels (a 2x2 max-pool after
    every second one), then a hidden linear layer whose output is the
    embedding.

    Parameters
    ----------
    in_channels, n_classes : int
    image_size : int
        Height and width of the (square) input.
    width : int
        Channels per convolution.
    depth : int
        Number of convolutions.
    hidden : int
        Size of the embedding layer.
    """

    def __init__(
        self, in_channels: int, n_classes: int, *, image_size: int, width: int = 16, depth: int = 2, hidden=64
    ):
        super().__init__()
        width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        hidden = check_positive_int(hidden, "hidden")
        layers, channels, size = [], in_channels, image_size
        for i in range(depth):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
            if i % 2 == 1 and size >= 4:
                layers.append(nn.MaxPool2d(2))
                size //= 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.embedding = nn.Sequential(nn.Linear(channels * size * size, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class SmallCNN1d(nn.Module):
    """The 1-D sibling of :class:`SmallCNN`, for sequences such as MNIST-1D.

    ``depth`` convolutions of kernel 5 and ``width`` channels (a max-pool of 2
    after every second one), then a hidden linear layer whose output is the
    embedding. Input shape (n, in_channels, length).
    """

    def __init__(self, in_channels: int, n_classes: int, *, length: int, width: int = 16, depth: int = 2, hidden=64):
        super().__init__()
        width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        hidden = check_positive_int(hidden, "hidden")
        layers, channels, size = [], in_channels, length
        for i in range(depth):
            layers += [nn.Conv1d(channels, width, 5, padding=2), nn.ReLU()]
            channels = width
            if i % 2 == 1 and size >= 4:
                layers.append(nn.MaxPool1d(2))
                size //= 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.embedding = nn.Sequential(nn.Linear(channels * size, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNetCIFAR(nn.Module):
    """A CIFAR-style ResNet with basic blocks: ``depth = 6n + 2`` (20, 32, 56, 110, ...).

    Three stages of ``n`` blocks with ``width``, ``2 width`` and ``4 width``
    channels (He et al., 2016, section 4.2). ResNet20 is the Selection-via-Proxy
    paper's proxy; a deeper one stands in for its ResNet164 target.
    """

    def __init__(self, in_channels: int, n_classes: int, *, depth: int = 20, width: int = 16):
        super().__init__()
        depth = check_positive_int(depth, "depth")
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, ...), got {depth}.")
        width = check_positive_int(width, "width")
        blocks, channels = [], width
        for stage, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range((depth - 2) // 6):
                blocks.append(_BasicBlock(channels, c_out, 2 if stage > 0 and b == 0 else 1))
                channels = c_out
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            *blocks,
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(channels, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class TorchClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn-compatible classifier backed by a small torch network.

    Parameters
    ----------
    arch : {"mlp", "cnn", "resnet", "cnn1d"}
        ``"mlp"`` takes (n, n_features) input; ``"cnn"`` and ``"resnet"``
        take images (n, channels, height, width); ``"cnn1d"`` takes
        sequences (n, channels, length).
    hidden : int or tuple of int
        MLP hidden widths, or the CNN's embedding size.
    width, depth : int
        CNN channels and number of convolutions; for ``"resnet"``, the first
        stage's channels and the depth 6n + 2 (ignored by the MLP).
    epochs, batch_size : int
    lr, weight_decay : float
        Adam's learning rate and L2 penalty.
    classes : array-like, optional
        All class labels, so that ``predict_proba`` has a column for each even
        when a small labelled set misses some (as in early active learning).
    device : None, str or torch.device
        See :func:`get_device`.
    seed : int, numpy.random.Generator or None
        Seeds weight initialisation and shuffling; on CPU a fixed int gives
        identical results. A Generator gives its next draw at each ``fit``,
        ``None`` fresh entropy (:func:`dcai_al.validation.as_seed_int`).
        Global torch random state is left untouched.
    progress : bool
        Show a tqdm bar over epochs.
    track_correct : bool
        Record, after each epoch, which training examples are classified
        correctly (``correct_history_``, shape (epochs, n)), for forgetting
        events.

    Attributes
    ----------
    classes_ : numpy.ndarray
    model_ : torch.nn.Module
    epoch_times_ : list of float
        Training seconds after each epoch, from the start of ``fit`` (time
        spent on ``eval_set`` is left out).
    eval_accuracy_ : list of float
        Accuracy on ``eval_set`` after each epoch, when one was given.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.9], [1.0]], dtype=np.float32)
    >>> clf = TorchClassifier(hidden=(), epochs=200, lr=0.1, device="cpu").fit(X, [0, 0, 1, 1])
    >>> clf.predict(X).tolist()
    [0, 0, 1, 1]
    """

    def __init__(
        self,
        arch: str = "mlp",
        *,
        hidden=(128,),
        width: int = 16,
        depth: int = 2,
        epochs: int = 20,
        batch_size: int = 128,
        lr: float = 1e-2,
        weight_decay: float = 0.0,
        classes=None,
        device=None,
        seed: int = 0,
        progress: bool = False,
        track_correct: bool = False,
    ):
        self.arch = arch
        self.hidden = hidden
        self.width = width
        self.depth = depth
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.classes = classes
        self.device = device
        self.seed = seed
        self.progress = progress
        self.track_correct = track_correct

    # -- helpers -------------------------------------------------------------
    def _check_X(self, X, *, fitting: bool) -> torch.Tensor:
        if is_tensor(X):
            X = X.detach().float()
        else:
            X = np.asarray(X)
            if X.dtype == object or not np.issubdtype(X.dtype, np.number):
                raise TypeError(f"X must hold numbers, got dtype {X.dtype}.")
            X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        want = {"mlp": 2, "cnn1d": 3}.get(self.arch, 4)  # images for "cnn" and "resnet"
        if X.ndim != want:
            shape = {2: "(n_samples, n_features)", 3: "(n_samples, channels, length)"}.get(
                want, "(n_samples, channels, height, width)"
            )
            raise ValueError(f"X must have shape {shape} for arch={self.arch!r}, got shape {tuple(X.shape)}.")
        if X.shape[0] == 0:
            raise ValueError("X is empty: it has no rows.")
        if not bool(torch.isfinite(X).all()):
            raise ValueError("X must be finite; it holds NaN or inf.")
        if not fitting and tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(f"X has rows of shape {tuple(X.shape[1:])}, but the model was fit on {self.input_shape_}.")
        return X

    def _build(self, input_shape, n_classes: int) -> nn.Module:
        if self.arch == "mlp":
            return MLP(int(np.prod(input_shape)), n_classes, self.hidden)
        if self.arch == "cnn":
            channels, height, width = input_shape
            if height != width:
                raise ValueError(f"arch='cnn' needs square images, got {height}x{width}.")
            hidden = self.hidden[0] if isinstance(self.hidden, (tuple, list)) and self.hidden else self.hidden
            return SmallCNN(channels, n_classes, image_size=height, width=self.width, depth=self.depth, hidden=hidden)
        if self.arch == "cnn1d":
            hidden = self.hidden[0] if isinstance(self.hidden, (tuple, list)) and self.hidden else self.hidden
            return SmallCNN1d(
                input_shape[0], n_classes, length=input_shape[1], width=self.width, depth=self.depth, hidden=hidden
            )
        if self.arch == "resnet":
            return ResNetCIFAR(input_shape[0], n_classes, depth=self.depth, width=self.width)
        raise ValueError(f"arch must be 'mlp', 'cnn', 'resnet' or 'cnn1d', got {self.arch!r}.")

    def _batches(self, X: torch.Tensor, fn):
        outs = [fn(X[i : i + 4096].to(self.device_)) for i in range(0, X.shape[0], 4096)]
        return torch.cat(outs)

    # -- scikit-learn API ------------------------------------------------------
    def fit(self, X, y, eval_set=None):
        """Train a fresh network on ``X``, ``y``; returns ``self``.

        ``eval_set=(X_eval, y_eval)`` records the accuracy after each epoch
        in ``eval_accuracy_`` (for accuracy-vs-time curves).
        """
        epochs = check_positive_int(self.epochs, "epochs")
        batch_size = check_positive_int(self.batch_size, "batch_size")
        seed = as_seed_int(self.seed, high=2**63)
        self.device_ = get_device(self.device)
        X = self._check_X(X, fitting=True)
        y = check_labels(y, n=X.shape[0])
        self.classes_ = np.unique(y) if self.classes is None else np.asarray(self.classes)
        missing = np.setdiff1d(np.unique(y), self.classes_)
        if missing.size:
            raise ValueError(f"y holds labels {missing.tolist()} that are not in classes={self.classes_.tolist()}.")
        if self.classes_.size < 2:
            raise ValueError(f"y must hold at least 2 classes to train a classifier, got {self.classes_.tolist()}.")
        self.input_shape_ = tuple(X.shape[1:])
        targets = torch.from_numpy(np.searchsorted(self.classes_, y).astype(np.int64))

        # fork_rng keeps the caller's global torch random state as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model_ = self._build(self.input_shape_, self.classes_.size).to(self.device_)
        generator = torch.Generator().manual_seed(seed)
        optimiser = torch.optim.Adam(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        loss_fn = nn.CrossEntropyLoss()
        X_dev, t_dev = X.to(self.device_), targets.to(self.device_)
        n = X.shape[0]
        history, self.epoch_times_, self.eval_accuracy_ = [], [], []
        if eval_set is not None:
            X_eval = self._check_X(eval_set[0], fitting=False).to(self.device_)
            t_eval = torch.from_numpy(np.searchsorted(self.classes_, check_labels(eval_set[1]))).to(self.device_)
        start, paused = time.perf_counter(), 0.0
        for _ in tqdm(range(epochs), desc="training", disable=not self.progress, leave=False):
            self.model_.train()
            order = torch.randperm(n, generator=generator).to(self.device_)
            for i in range(0, n, batch_size):
                batch = order[i : i + batch_size]
                optimiser.zero_grad(set_to_none=True)
                loss = loss_fn(self.model_(X_dev[batch]), t_dev[batch])
                loss.backward()
                optimiser.step()
            if self.track_correct:
                self.model_.eval()
                with torch.no_grad():
                    pred = self._batches(X_dev, lambda b: self.model_(b).argmax(1))
                history.append((pred == t_dev).cpu().numpy())
            self.epoch_times_.append(time.perf_counter() - start - paused)
            if eval_set is not None:
                eval_start = time.perf_counter()
                self.model_.eval()
                with torch.no_grad():
                    pred = self._batches(X_eval, lambda b: self.model_(b).argmax(1))
                self.eval_accuracy_.append(float((pred == t_eval).float().mean()))
                paused += time.perf_counter() - eval_start
        self.model_.eval()
        self.correct_history_ = np.stack(history) if history else None
        return self

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise NotFittedError("This TorchClassifier is not fitted yet; call fit(X, y) first.")

    @torch.no_grad()
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), rows summing to 1."""
        self._check_fitted()
        X = self._check_X(X, fitting=False)
        logits = self._batches(X, self.model_)
        return torch.softmax(logits.double(), dim=1).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable class label for each row of ``X``."""
        self._check_fitted()
        return self.classes_[self.predict_proba(X).argmax(1)]

    @torch.no_grad()
    def embed(self, X) -> np.ndarray:
        """Penultimate-layer activations, shape (n_samples, embedding_dim), float32."""
        self._check_fitted()
        X = self._check_X(X, fitting=False)
        return self._batches(X, self.model_.embed).float().cpu().numpy()
