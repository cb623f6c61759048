"""The bad-input corpus: malformed input to every module's public functions.

Each row feeds one public function one kind of broken input and states the
error type and the words its message must contain, always including the name
of the argument at fault, so that a student who passes the wrong thing reads
what is wrong in their own terms. (``test_validation.py`` covers the shared
validators themselves.)
"""

from collections import Counter

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from dcai_al import (
    acquisition,
    checks,
    classroom,
    config,
    data,
    diversity,
    grading,
    loop,
    models,
    plotting,
    proxy,
    seals,
    threshold,
)

P = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
X = np.random.default_rng(0).standard_normal((20, 3))
X32 = X.astype(np.float32)
Y = np.arange(20) % 2
NAN_X = X.copy()
NAN_X[3, 1] = np.nan


def _pool(k=3):
    return seals.CandidatePool(seals.build_index(X32), X32, k)


def _fit_classifier(**overrides):
    params = dict(epochs=1, batch_size=8, device="cpu", seed=0, progress=False)
    params.update(overrides)
    return models.TorchClassifier(**params)


CASES = [
    # (module, what is wrong, call, error type, words the message must contain)
    # --- acquisition
    ("acquisition", "1-D probs", lambda: acquisition.entropy([0.2, 0.8]), ValueError, ["probs", "2-D"]),
    ("acquisition", "NaN in probs", lambda: acquisition.entropy([[0.5, np.nan]]), ValueError, ["probs", "NaN"]),
    ("acquisition", "rows not summing to 1", lambda: acquisition.margin([[0.5, 0.4]]), ValueError, ["probs", "sums"]),
    ("acquisition", "negative probability", lambda: acquisition.least_confidence([[1.5, -0.5]]), ValueError, ["probs"]),
    ("acquisition", "one class only", lambda: acquisition.margin([[1.0], [1.0]]), ValueError, ["probs", "2 classes"]),
    ("acquisition", "empty pool", lambda: acquisition.entropy(np.zeros((0, 3))), ValueError, ["probs", "empty"]),
    ("acquisition", "strings as probs", lambda: acquisition.entropy([["a", "b"]]), TypeError, ["probs"]),
    ("acquisition", "budget above the pool", lambda: acquisition.select_top([0.1, 0.2], 3), ValueError, ["batch_size"]),
    ("acquisition", "zero budget", lambda: acquisition.select_top([0.1, 0.2], 0), ValueError, ["batch_size"]),
    ("acquisition", "fractional budget", lambda: acquisition.select_top([0.1, 0.2], 1.5), TypeError, ["batch_size"]),
    ("acquisition", "NaN score", lambda: acquisition.select_top([0.1, np.nan], 1), ValueError, ["scores"]),
    ("acquisition", "2-D scores", lambda: acquisition.select_top([[0.1, 0.2]], 1), ValueError, ["scores"]),
    (
        "acquisition",
        "labelled index out of range",
        lambda: acquisition.select_top([0.1, 0.2, 0.3], 1, labelled=[3]),
        ValueError,
        ["labelled"],
    ),
    (
        "acquisition",
        "duplicate labelled index",
        lambda: acquisition.select_top([0.1, 0.2, 0.3], 1, labelled=[0, 0]),
        ValueError,
        ["labelled", "repeat"],
    ),
    (
        "acquisition",
        "batch size above what is left unlabelled",
        lambda: acquisition.select_top([0.1, 0.2, 0.3], 2, labelled=[0, 1]),
        ValueError,
        ["batch_size"],
    ),
    ("acquisition", "negative pool size", lambda: acquisition.random_scores(-1), ValueError, ["n"]),
    # --- threshold
    ("threshold", "lo above hi", lambda: threshold.binary_search_query([0.5], 0.8, 0.2), ValueError, ["lo", "hi"]),
    ("threshold", "NaN pool point", lambda: threshold.binary_search_query([np.nan], 0, 1), ValueError, ["x"]),
    (
        "threshold",
        "labels and points of different lengths",
        lambda: threshold.version_space([0.1, 0.2], [0]),
        ValueError,
        ["y_labelled"],
    ),
    (
        "threshold",
        "more labels than pool points",
        lambda: threshold.run_threshold_learner(np.linspace(0, 1, 5), np.ones(5), 0.5, 6, active=True),
        ValueError,
        ["n_labels"],
    ),
    ("threshold", "negative tolerance", lambda: threshold.labels_to_reach([[0.5]], -0.1), ValueError, ["tolerance"]),
    ("threshold", "strings as the pool", lambda: threshold.binary_search_query(["a", "b"], 0, 1), TypeError, ["x"]),
    ("threshold", "a string as lo", lambda: threshold.binary_search_query([0.5], "0.2", 1), TypeError, ["lo"]),
    ("threshold", "a string as hi", lambda: threshold.binary_search_query([0.5], 0, "one"), TypeError, ["hi"]),
    ("threshold", "an infinite lo", lambda: threshold.binary_search_query([0.5], -np.inf, 1), ValueError, ["lo"]),
    ("threshold", "an infinite hi", lambda: threshold.binary_search_query([0.5], 0, np.inf), ValueError, ["hi"]),
    ("threshold", "a NaN lo", lambda: threshold.binary_search_query([0.5], np.nan, 1), ValueError, ["lo"]),
    (
        "threshold",
        "a NaN position",
        lambda: threshold.version_space([np.nan, 0.5], [0, 1]),
        ValueError,
        ["x_labelled", "NaN"],
    ),
    ("threshold", "strings as positions", lambda: threshold.version_space(["a"], [0]), TypeError, ["x_labelled"]),
    (
        "threshold",
        "a NaN threshold",
        lambda: threshold.run_threshold_learner(np.linspace(0, 1, 5), np.ones(5), np.nan, 3, active=True),
        ValueError,
        ["threshold"],
    ),
    ("threshold", "a NaN tolerance", lambda: threshold.labels_to_reach([[0.5]], np.nan), ValueError, ["tolerance"]),
    ("threshold", "3-D errors", lambda: threshold.labels_to_reach(np.zeros((2, 2, 2)), 0.1), ValueError, ["errors"]),
    ("threshold", "NaN errors", lambda: threshold.labels_to_reach([[np.nan, 0.1]], 0.1), ValueError, ["errors"]),
    ("threshold", "string errors", lambda: threshold.labels_to_reach([["a"]], 0.1), TypeError, ["errors"]),
    # --- loop
    ("loop", "seed set larger than the pool", lambda: loop.initial_labels(Y, 21), ValueError, ["n_initial"]),
    (
        "loop",
        "more classes asked than exist",
        lambda: loop.initial_labels(Y, 5, min_classes=3),
        ValueError,
        ["min_classes"],
    ),
    (
        "loop",
        "pool and labels of different lengths",
        lambda: loop.run_loop(
            LogisticRegression(), X, Y[:-1], X, Y, score=acquisition.entropy, labelled=[0, 1], batch_size=2, n_rounds=1
        ),
        ValueError,
        ["y_pool"],
    ),
    (
        "loop",
        "zero batch size",
        lambda: loop.run_loop(
            LogisticRegression(), X, Y, X, Y, score=acquisition.entropy, labelled=[0, 1], batch_size=0, n_rounds=1
        ),
        ValueError,
        ["batch_size"],
    ),
    (
        "loop",
        "duplicate seed labels",
        lambda: loop.run_loop(
            LogisticRegression(), X, Y, X, Y, score=acquisition.entropy, labelled=[0, 0, 1], batch_size=2, n_rounds=1
        ),
        ValueError,
        ["labelled", "repeat"],
    ),
    (
        "loop",
        "batch_size * n_rounds beyond the pool",
        lambda: loop.run_loop(
            LogisticRegression(), X, Y, X, Y, score=acquisition.entropy, labelled=[0, 1], batch_size=10, n_rounds=3
        ),
        ValueError,
        ["n_rounds"],
    ),
    (
        "loop",
        "fewer classes than the model knows",
        lambda: loop.class_probabilities(LogisticRegression().fit(X, np.arange(20) % 3), X, 2),
        ValueError,
        ["n_classes"],
    ),
    # --- diversity
    ("diversity", "batch size above the pool", lambda: diversity.k_center_greedy(X, 21), ValueError, ["batch_size"]),
    (
        "diversity",
        "batch size above the unlabelled pool",
        lambda: diversity.k_center_greedy(X, 19, labelled=[0, 1]),
        ValueError,
        ["batch_size"],
    ),
    ("diversity", "negative batch size", lambda: diversity.k_center_greedy(X, -2), ValueError, ["batch_size"]),
    ("diversity", "1-D features", lambda: diversity.k_center_greedy(X[:, 0], 2), ValueError, ["features"]),
    ("diversity", "NaN feature", lambda: diversity.k_center_greedy(NAN_X, 2), ValueError, ["features", "row 3"]),
    ("diversity", "empty pool", lambda: diversity.k_center_greedy(np.zeros((0, 3)), 1), ValueError, ["features"]),
    (
        "diversity",
        "labelled index out of range",
        lambda: diversity.k_center_greedy(X, 2, labelled=[20]),
        ValueError,
        ["labelled"],
    ),
    (
        "diversity",
        "duplicate labelled index",
        lambda: diversity.k_center_greedy(X, 2, labelled=[1, 1]),
        ValueError,
        ["labelled", "repeat"],
    ),
    ("diversity", "unknown device", lambda: diversity.k_center_greedy(X, 2, device="tpu"), ValueError, ["device"]),
    ("diversity", "no centers", lambda: diversity.coverage_radius(X, []), ValueError, ["centers"]),
    (
        "diversity",
        "scores and features of different lengths",
        lambda: diversity.uncertain_then_diverse(np.ones(19), X, 2),
        ValueError,
        ["scores"],
    ),
    # --- seals
    ("seals", "unknown index kind", lambda: seals.build_index(X32, kind="tree"), ValueError, ["kind"]),
    ("seals", "1-D embeddings", lambda: seals.build_index(X32[:, 0]), ValueError, ["embeddings"]),
    ("seals", "NaN embedding", lambda: seals.build_index(NAN_X.astype(np.float32)), ValueError, ["embeddings"]),
    ("seals", "zero neighbours", lambda: _pool(k=0), ValueError, ["k"]),
    (
        "seals",
        "embeddings that are not the indexed ones",
        lambda: seals.CandidatePool(seals.build_index(X32), X32[:10], 3),
        ValueError,
        ["embeddings"],
    ),
    ("seals", "labelling an index out of range", lambda: _pool().update([25]), ValueError, ["newly_labelled"]),
    ("seals", "labelling an index twice", lambda: _pool().update([2, 2]), ValueError, ["newly_labelled", "repeat"]),
    ("seals", "one-column probs", lambda: seals.most_likely_positive([[1.0], [1.0]]), ValueError, ["probs"]),
    (
        "seals",
        "search results for a different number of queries",
        lambda: seals.neighbours_without_self(np.zeros((3, 4), dtype=np.int64), np.arange(2)),
        ValueError,
        ["query_ids"],
    ),
    # --- proxy
    ("proxy", "1-D correctness record", lambda: proxy.forgetting_events([True, False]), ValueError, ["correct"]),
    ("proxy", "counts instead of booleans", lambda: proxy.forgetting_events([[2, 0]]), ValueError, ["correct"]),
    ("proxy", "zero fraction", lambda: proxy.keep_hardest([0, 1], [0, 1], 0.0), ValueError, ["fraction"]),
    ("proxy", "fraction above 1", lambda: proxy.keep_hardest([0, 1], [0, 1], 1.5), ValueError, ["fraction"]),
    ("proxy", "order repeats an index", lambda: proxy.keep_hardest([0, 0], [0, 1], 0.5), ValueError, ["order"]),
    ("proxy", "fractional order", lambda: proxy.keep_hardest([1.5, 0.0], [0, 1], 0.5), TypeError, ["order"]),
    ("proxy", "empty order", lambda: proxy.keep_hardest([], [], 0.5), ValueError, ["order", "empty"]),
    ("proxy", "strings as order", lambda: proxy.keep_hardest(["b", "a"], [0, 1], 0.5), TypeError, ["order"]),
    (
        "proxy",
        "a ragged correctness record",
        lambda: proxy.forgetting_events([[True, False], [True]]),
        ValueError,
        ["correct", "different lengths"],
    ),
    (
        "proxy",
        "labels shorter than the order",
        lambda: proxy.keep_hardest([0, 1, 2], [0, 1], 0.5),
        ValueError,
        ["labels"],
    ),
    ("proxy", "negative time", lambda: proxy.end_to_end_speedup(-1.0, 1.0, 1.0, 10.0), ValueError, ["proxy_seconds"]),
    ("proxy", "probs not summing to 1", lambda: proxy.uncertainty_order([[0.5, 0.2]]), ValueError, ["probs"]),
    # --- data
    ("data", "empty threshold pool", lambda: data.make_threshold_pool(0), ValueError, ["n"]),
    ("data", "threshold off the line", lambda: data.make_threshold_pool(10, threshold=1.5), ValueError, ["threshold"]),
    (
        "data",
        "prevalence above 1",
        lambda: data.make_embedding_pool(100, 8, prevalence=2.0),
        ValueError,
        ["prevalence"],
    ),
    ("data", "a test split of everything", lambda: data.load_digits_pool(test_fraction=1.0), ValueError, ["fraction"]),
    ("data", "no augmented copies", lambda: data.load_augmented_digits(copies=0), ValueError, ["copies"]),
    # --- models
    ("models", "unknown device", lambda: models.get_device("tpu"), ValueError, ["device", "tpu"]),
    ("models", "features and labels of different lengths", lambda: _fit_classifier().fit(X, Y[:5]), ValueError, ["y"]),
    ("models", "NaN feature", lambda: _fit_classifier().fit(NAN_X, Y), ValueError, ["X"]),
    ("models", "probabilities before fitting", lambda: _fit_classifier().predict_proba(X), NotFittedError, ["fit"]),
    ("models", "zero epochs", lambda: _fit_classifier(epochs=0).fit(X, Y), ValueError, ["epochs"]),
    # --- plotting
    (
        "plotting",
        "curves of different lengths than x",
        lambda: plotting.plot_curves({"a": [1, 2, 3]}, [1, 2], title="t", xlabel="x", ylabel="y"),
        ValueError,
        ["x"],
    ),
    (
        "plotting",
        "no title",
        lambda: plotting.plot_curves({"a": [1, 2]}, title="", xlabel="x", ylabel="y"),
        ValueError,
        ["title"],
    ),
    # --- checks, classroom, grading, config
    ("checks", "a value instead of a function", lambda: checks.check("entropy", P), checks.CheckFailed, ["function"]),
    ("classroom", "an unknown lab", lambda: classroom.students("lab9"), ValueError, ["lab9"]),
    (
        "grading",
        "a submissions folder that does not exist",
        lambda: grading.autograde("/nonexistent/submitted"),
        FileNotFoundError,
        ["submissions_dir"],
    ),
    ("config", "an unreadable quick switch", lambda: config.quick_mode({"DCAI_AL_QUICK": "maybe"}), ValueError, []),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("module, wrong, call, error, words", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_bad_input_gets_a_clear_error_naming_the_argument(module, wrong, call, error, words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{module}: {wrong}: {word!r} is missing from the message {message!r}"


def test_the_corpus_covers_every_module_with_at_least_forty_cases():
    per_module = Counter(case[0] for case in CASES)
    print(dict(per_module))
    assert len(CASES) >= 40
    for module in ("acquisition", "threshold", "loop", "diversity", "seals", "proxy", "data", "models", "plotting"):
        assert per_module[module] >= 2, f"only {per_module[module]} bad-input cases for {module}"


def test_keep_hardest_reads_a_whole_number_float_order_as_indices():
    # like every index argument of the kit (check_indices): 1.0 is index 1, 1.5 is an error
    assert proxy.keep_hardest([1.0, 0.0], [0, 1], 0.5).tolist() == proxy.keep_hardest([1, 0], [0, 1], 0.5).tolist()
