"""models.py: device choice, the model family, and the scikit-learn wrapper."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from dcai_al.data import load_digits_pool
from dcai_al.models import MLP, SmallCNN, TorchClassifier, get_device


def test_get_device_prefers_an_accelerator():
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert get_device().type == expected
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")).type == "cpu"


@pytest.mark.parametrize(
    "device, error, word",
    [("tpu", ValueError, "one of"), (3, TypeError, "device"), ("gpu", ValueError, "one of")],
)
def test_get_device_rejects_unknown_devices(device, error, word):
    with pytest.raises(error, match=word):
        get_device(device)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA; the message is for machines without")
def test_asking_for_missing_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        get_device("cuda")


def test_model_family_depth_and_width_change_cost():
    small = SmallCNN(1, 10, image_size=8, width=8, depth=1)
    big = SmallCNN(1, 10, image_size=8, width=32, depth=4)
    conv_weights = lambda m: sum(p.numel() for p in m.features.parameters())  # noqa: E731
    assert conv_weights(big) > 10 * conv_weights(small)
    assert MLP(64, 10, hidden=(32, 16)).embed(torch.zeros(2, 64)).shape == (2, 16)


@pytest.fixture(scope="module")
def digits():
    return load_digits_pool(seed=0)


def test_classifier_learns_digits_and_returns_probabilities(digits):
    clf = TorchClassifier(epochs=15, device="cpu").fit(digits.X_pool, digits.y_pool)
    proba = clf.predict_proba(digits.X_test)
    assert proba.shape == (450, 10) and np.allclose(proba.sum(1), 1)
    assert clf.score(digits.X_test, digits.y_test) > 0.9
    assert clf.embed(digits.X_test).shape == (450, 128)


def test_cnn_classifier_on_images():
    split = load_digits_pool(images=True, seed=0)
    clf = TorchClassifier("cnn", epochs=8, width=8, depth=2, device="cpu").fit(split.X_pool, split.y_pool)
    assert clf.score(split.X_test, split.y_test) > 0.9


def test_classifier_is_deterministic_for_a_seed_and_leaves_global_rng_alone(digits):
    torch.manual_seed(99)
    before = torch.random.get_rng_state()
    a = TorchClassifier(epochs=3, seed=1, device="cpu").fit(digits.X_pool, digits.y_pool)
    assert torch.equal(torch.random.get_rng_state(), before)
    b = clone(a).fit(digits.X_pool, digits.y_pool)
    c = TorchClassifier(epochs=3, seed=2, device="cpu").fit(digits.X_pool, digits.y_pool)
    assert np.array_equal(a.predict_proba(digits.X_test), b.predict_proba(digits.X_test))
    assert not np.array_equal(a.predict_proba(digits.X_test), c.predict_proba(digits.X_test))


def test_classes_argument_gives_columns_for_unseen_classes(digits):
    few = np.flatnonzero(digits.y_pool < 3)[:60]
    clf = TorchClassifier(epochs=2, classes=np.arange(10), device="cpu").fit(digits.X_pool[few], digits.y_pool[few])
    assert clf.predict_proba(digits.X_test).shape == (450, 10)


def test_track_correct_records_one_row_per_epoch(digits):
    clf = TorchClassifier(epochs=4, track_correct=True, device="cpu").fit(digits.X_pool, digits.y_pool)
    assert clf.correct_history_.shape == (4, len(digits.y_pool)) and clf.correct_history_.dtype == bool
    assert len(clf.epoch_times_) == 4 and np.all(np.diff(clf.epoch_times_) > 0)


BAD_FIT = [
    ({}, np.zeros((0, 4)), [], ValueError, "empty"),
    ({}, np.zeros(4), [0, 1, 0, 1], ValueError, "shape"),
    ({}, np.full((4, 2), np.nan), [0, 1, 0, 1], ValueError, "finite"),
    ({}, np.zeros((4, 2)), [0, 1, 0], ValueError, "lengths must match"),
    ({}, np.zeros((4, 2)), [0, 0, 0, 0], ValueError, "at least 2 classes"),
    ({"arch": "rnn"}, np.zeros((4, 2)), [0, 1, 0, 1], ValueError, "arch"),
    ({"arch": "cnn"}, np.zeros((4, 2)), [0, 1, 0, 1], ValueError, "channels"),
    ({"epochs": 0}, np.zeros((4, 2)), [0, 1, 0, 1], ValueError, "epochs"),
    ({"batch_size": 1.5}, np.zeros((4, 2)), [0, 1, 0, 1], TypeError, "batch_size"),
    ({"seed": "x"}, np.zeros((4, 2)), [0, 1, 0, 1], TypeError, "seed"),
    ({"seed": -1}, np.zeros((4, 2)), [0, 1, 0, 1], ValueError, "seed"),
    ({"device": "tpu"}, np.zeros((4, 2)), [0, 1, 0, 1], ValueError, "device"),
    ({"classes": [0, 1]}, np.zeros((4, 2)), [0, 1, 2, 1], ValueError, "not in classes"),
    ({}, np.array([["a", "b"]] * 4), [0, 1, 0, 1], TypeError, "numbers"),
]


@pytest.mark.parametrize("params, X, y, error, word", BAD_FIT, ids=[w for *_, w in BAD_FIT])
def test_fit_rejects_bad_input(params, X, y, error, word):
    with pytest.raises(error, match=word):
        TorchClassifier(**({"epochs": 1, "device": "cpu"} | params)).fit(X, y)


def test_predict_before_fit_and_wrong_width_are_clear(digits):
    with pytest.raises(NotFittedError, match="not fitted"):
        TorchClassifier().predict(digits.X_test)
    clf = TorchClassifier(epochs=1, device="cpu").fit(digits.X_pool, digits.y_pool)
    with pytest.raises(ValueError, match="fit on"):
        clf.predict(digits.X_test[:, :10])


def test_resnet_family_for_the_cifar_opt_in():
    from dcai_al.models import ResNetCIFAR

    net = ResNetCIFAR(3, 10, depth=20, width=8)
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10) and net.embed(torch.zeros(2, 3, 32, 32)).shape == (2, 32)
    convs = lambda m: sum(isinstance(x, torch.nn.Conv2d) and x.kernel_size == (3, 3) for x in m.modules())  # noqa: E731
    assert convs(net) == 19 and convs(ResNetCIFAR(3, 10, depth=56, width=8)) == 55
    with pytest.raises(ValueError, match="6n \\+ 2"):
        ResNetCIFAR(3, 10, depth=21)
    X = np.random.default_rng(0).random((64, 3, 16, 16), dtype=np.float32)
    clf = TorchClassifier("resnet", depth=8, width=4, epochs=1, device="cpu").fit(X, np.arange(64) % 2)
    assert clf.predict_proba(X).shape == (64, 2)
