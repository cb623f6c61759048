"""scale.py on a real 2-worker LocalCluster: the distributed answers equal the single-machine ones."""

import json
import os
import signal

import numpy as np
import pytest

from dcai_al import acquisition, diversity, scale, seals
from dcai_al.cli import main
from dcai_al.data import EMBEDDING_BLOCK, make_embedding_pool

N, D = 3 * EMBEDDING_BLOCK + 12_345, 16  # four shards, the last one short


@pytest.fixture(scope="module")
def client():
    with scale.connect(n_workers=2, threads_per_worker=1, memory_limit="2GB") as c:
        c.wait_for_workers(2)
        yield c


@pytest.fixture(scope="module")
def pool(tmp_path_factory, client):
    path = tmp_path_factory.mktemp("scale") / "pool"
    return scale.write_embedding_pool(path, N, D, shard_rows=EMBEDDING_BLOCK, seed=3, client=client)


@pytest.fixture(scope="module")
def X(pool):
    return pool.to_numpy()


def test_sharded_generation_writes_exactly_the_in_memory_pool(pool, X):
    assert pool.shape == (N, D) and pool.n_shards == 4 and pool.starts[-1] == N
    expected, y = make_embedding_pool(N, D, seed=3)
    assert np.array_equal(X, expected)
    assert np.array_equal(pool.labels(), y)
    ids = np.array([N - 1, 0, EMBEDDING_BLOCK, 5])
    assert np.array_equal(pool[ids], expected[ids])


def _head(seed=0, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((D, k)).astype(np.float32), rng.standard_normal(k).astype(np.float32)


@pytest.mark.parametrize("score", sorted(acquisition.SCORES))
def test_distributed_top_j_equals_select_top(pool, X, client, score):
    coef, intercept = _head()
    scores = scale.score_pool(pool, score, coef=coef, intercept=intercept)
    labelled = np.random.default_rng(1).choice(N, 300, replace=False)
    got = scale.top_j(scores, 1000, labelled=labelled, client=client)
    whole = scores.compute(scheduler="threads")
    assert np.array_equal(got, acquisition.select_top(whole, 1000, labelled=labelled))
    assert whole.shape == (N,)


def test_top_j_breaks_ties_like_select_top_across_chunks(tmp_path, client):
    # Three distinct probability rows repeated: scores tie across every chunk boundary.
    rows = np.array([[0.5, 0.5], [0.9, 0.1], [0.7, 0.3]])[np.random.default_rng(2).integers(0, 3, 5000)]
    probs_pool = scale.write_pool(tmp_path / "probs", np.array_split(rows, 7))
    scores = scale.score_pool(probs_pool, "margin")
    got = scale.top_j(scores, 2500, labelled=[0, 1, 2], client=client, fan_in=2)
    assert np.array_equal(got, acquisition.select_top(scores.compute(), 2500, labelled=[0, 1, 2]))


@pytest.mark.parametrize("labelled", [None, [7, EMBEDDING_BLOCK + 1, N - 1, 100, 2 * EMBEDDING_BLOCK]])
def test_distributed_k_centers_equal_lab2(pool, X, client, labelled):
    got = scale.k_center_greedy(pool, 25, labelled, client=client, seed=4)
    expected = diversity.k_center_greedy(X, 25, labelled, seed=4)
    assert got.tolist() == expected.tolist()


def test_a_worker_killed_mid_run_is_survived_with_the_same_answer(pool, X):
    expected = diversity.k_center_greedy(X, 12, [3, 4], seed=0)
    with scale.connect(n_workers=2, threads_per_worker=1, memory_limit="2GB") as c:
        c.wait_for_workers(2)
        victim = sorted(c.scheduler_info()["workers"])[0]
        pid = c.run(os.getpid, workers=[victim])[victim]
        killed = []

        def kill_at_step_5(step, pick):
            if step == 5:
                os.kill(pid, signal.SIGKILL)
                killed.append(victim)

        got = scale.k_center_greedy(pool, 12, [3, 4], client=c, on_step=kill_at_step_5)
        assert killed and victim not in c.scheduler_info()["workers"]
    assert got.tolist() == expected.tolist()


def test_losing_workers_too_often_is_a_clear_error(pool):
    with scale.connect(n_workers=1, threads_per_worker=1, memory_limit="2GB") as c:
        c.wait_for_workers(1)

        def kill_every_step(step, pick):
            for pid in c.run(os.getpid).values():
                os.kill(pid, signal.SIGKILL)

        with pytest.raises(RuntimeError, match=r"lost a worker 2 times(?s:.*)nothing was returned"):
            scale.k_center_greedy(pool, 10, [0], client=c, max_restarts=1, on_step=kill_every_step)


def test_a_failed_write_leaves_nothing_behind(tmp_path, client):
    def shards():
        yield np.ones((4, 3))
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        scale.write_pool(tmp_path / "pool", shards())
    with pytest.raises(ValueError, match="prevalence"):  # raised on a worker
        scale.write_embedding_pool(tmp_path / "gen", EMBEDDING_BLOCK, 4, prevalence=2.0, client=client)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="pool.json"):
        scale.open_pool(tmp_path / "pool")


def test_an_existing_pool_is_not_overwritten_by_accident(tmp_path):
    scale.write_pool(tmp_path / "p", [np.zeros((2, 2))])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        scale.write_pool(tmp_path / "p", [np.ones((2, 2))])
    assert scale.write_pool(tmp_path / "p", [np.ones((3, 2))], overwrite=True).n == 3


def test_sharded_ivf_gives_lab3_the_exact_candidates(pool, X):
    index = scale.build_sharded_index(pool, "ivf", nlist=64, nprobe=64)  # every cell scanned: exact
    labelled = np.random.default_rng(5).choice(N, 50, replace=False)
    got = seals.CandidatePool(index, pool, 10).update(labelled[:20]).update(labelled[20:])
    exact = seals.CandidatePool(seals.build_index(X), X, 10).update(labelled)
    assert index.ntotal == N
    assert np.array_equal(got.candidates, exact.candidates)


def test_sharded_ivfpq_candidates_are_mostly_the_true_neighbours(pool, X):
    index = scale.build_sharded_index(pool, "ivfpq", pq_bytes=8, nprobe=32)
    labelled = np.random.default_rng(6).choice(N, 40, replace=False)
    got = seals.CandidatePool(index, pool, 10).update(labelled)
    exact = seals.CandidatePool(seals.build_index(X), X, 10).update(labelled)
    assert set(got.candidates).isdisjoint(labelled)
    overlap = np.intersect1d(got.candidates, exact.candidates).size / exact.candidates.size
    assert overlap > 0.5, f"only {overlap:.0%} of the exact candidates found"


def test_scale_cli_writes_a_pool_then_a_selection(tmp_path, capsys):
    path = tmp_path / "pool"
    assert main(["scale", "make-pool", str(path), "--n", str(2 * EMBEDDING_BLOCK), "--d", "8", "--workers", "2"]) == 0
    out = tmp_path / "selection.json"
    argv = ["scale", "select", str(path), "--batch-size", "50", "--k-centers-batch-size", "10", "--n-initial", "2000"]
    argv += ["--workers", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["top_j"]) == 50 and len(result["k_centers"]) == 10 and result["workers"] == 2
    assert set(result["top_j"]).isdisjoint(result["labelled"]) and set(result["k_centers"]).isdisjoint(
        result["labelled"]
    )
    X = scale.open_pool(path).to_numpy()
    assert result["k_centers"] == diversity.k_center_greedy(X, 10, result["labelled"]).tolist()
    assert "k-centers" in capsys.readouterr().out


def test_scale_cli_says_what_is_wrong_without_starting_a_cluster(tmp_path, capsys):
    assert main(["scale", "select", str(tmp_path / "missing")]) == 1
    assert "pool.json" in capsys.readouterr().err
    scale.write_pool(tmp_path / "mine", [np.zeros((3, 2))])
    assert main(["scale", "make-pool", str(tmp_path / "mine"), "--n", "10"]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_score_pool_takes_any_dask_array_of_rows():
    import dask.array as da

    X = np.random.default_rng(0).standard_normal((1000, 8)).astype(np.float32)
    coef, intercept = np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32), np.zeros(3, np.float32)
    lazy = scale.score_pool(da.from_array(X, chunks=(300, 4)), "margin", coef=coef, intercept=intercept)
    np.testing.assert_allclose(lazy.compute(), scale._score_block(X, coef, intercept, "margin"))
    with pytest.raises(ValueError, match="coef must be"):
        scale.score_pool(da.from_array(X), coef=coef[:5])


def test_the_pool_reads_as_one_dask_array(pool, X):
    lazy = pool.to_dask()
    assert lazy.shape == X.shape and lazy.chunks[0] == tuple(np.diff(pool.starts))
    np.testing.assert_allclose(lazy[::1000].compute(scheduler="threads"), X[::1000])


def test_distributed_k_centers_break_exact_ties_like_one_machine(tmp_path, client):
    grid = np.array([(i, j) for i in range(4) for j in range(4)], np.float32)  # exact ties everywhere
    grid_pool = scale.write_pool(tmp_path / "grid", np.array_split(grid, 3))
    assert scale.k_center_greedy(grid_pool, 4, [0], client=client).tolist() == [15, 3, 12, 5]


def test_sharded_and_in_memory_ivf_choose_nprobe_by_one_rule_for_the_same_recall(pool, X, capsys):
    from dcai_al.neighbour_index import exact_neighbours, ivf_nlist, recall_at

    sharded = scale.build_sharded_index(pool, "ivf", verbose=True)
    whole = seals.build_index(X, "ivf")
    assert sharded.nlist == whole.nlist == ivf_nlist(N)
    assert 1 <= sharded.nprobe <= sharded.nlist and "recall@10" in capsys.readouterr().out
    queries = X[np.random.default_rng(9).choice(N, 300, replace=False)]  # not the rows nprobe was chosen on
    exact = exact_neighbours(queries, [(0, X)], 10)
    assert recall_at(sharded, queries, exact) >= 0.93 and recall_at(whole, queries, exact) >= 0.93


# --- One vocabulary: batch_size, labelled (indices, never a count); the old names warn ------------


def test_old_names_of_top_j_and_k_centers_warn_and_give_the_same_answer(tmp_path, client):
    grid = np.array([(i, j) for i in range(4) for j in range(4)], np.float32)
    grid_pool = scale.write_pool(tmp_path / "grid", np.array_split(grid, 3))
    scores = scale.score_pool(scale.write_pool(tmp_path / "p", [np.full((16, 2), 0.5)]), "margin")
    expected = scale.top_j(scores, 3, labelled=[0, 1], client=client)
    with pytest.warns(DeprecationWarning, match="top_j: `j=` is deprecated; use `batch_size=`"):
        assert np.array_equal(scale.top_j(scores, j=3, labelled=[0, 1], client=client), expected)
    with pytest.warns(DeprecationWarning, match="top_j: `exclude=` is deprecated; use `labelled=`"):
        assert np.array_equal(scale.top_j(scores, 3, exclude=[0, 1], client=client), expected)
    with pytest.warns(DeprecationWarning, match="k_center_greedy: `budget=` is deprecated; use `batch_size=`"):
        got = scale.k_center_greedy(grid_pool, budget=4, labelled=[0], client=client)
    assert got.tolist() == scale.k_center_greedy(grid_pool, batch_size=4, labelled=[0], client=client).tolist()


def test_select_takes_labelled_indices_and_its_old_names_warn(pool, client):
    labelled = np.random.default_rng(5).choice(N, 500, replace=False)
    new = scale.select(pool, client=client, batch_size=20, k_centers_batch_size=2, labelled=labelled)
    assert new["labelled"] == sorted(labelled.tolist()) and set(new["top_j"]).isdisjoint(labelled)
    with (
        pytest.warns(DeprecationWarning, match="select: `j=` is deprecated; use `batch_size=`"),
        pytest.warns(DeprecationWarning, match="select: `budget=` is deprecated; use `k_centers_batch_size=`"),
    ):
        old = scale.select(pool, client=client, j=20, budget=2, labelled=labelled)
    assert old["top_j"] == new["top_j"] and old["k_centers"] == new["k_centers"]
    drawn = scale.select(pool, client=client, batch_size=5, k_centers_batch_size=0, n_initial=500, seed=1)
    assert len(drawn["labelled"]) == 500 and drawn["k_centers"] == []


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"labelled": 1000}, TypeError, ["labelled", "not a count", "n_initial=1000"]),
        ({"labelled": np.int64(5)}, TypeError, ["labelled", "n_initial"]),
        ({"labelled": [0, 1], "n_initial": 2}, ValueError, ["labelled", "n_initial", "not both"]),
        ({}, ValueError, ["labelled", "n_initial"]),
        ({"labelled": [0, 0]}, ValueError, ["labelled", "repeat"]),
        ({"labelled": [0, 1], "batch_size": 0}, ValueError, ["batch_size"]),
    ],
)
def test_select_rejects_a_count_for_labelled_and_other_bad_input(tmp_path, kwargs, error, words):
    small = scale.write_pool(tmp_path / "small", [np.zeros((10, 2))])
    args = {"batch_size": 2, "k_centers_batch_size": 0} | kwargs
    with pytest.raises(error) as info:
        scale.select(small, client=None, **args)  # rejected before any cluster is touched
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_the_old_select_flags_still_parse_and_say_their_new_names(capsys):
    from dcai_al.cli import _parser

    args = _parser().parse_args(["scale", "select", "pool", "--j", "5", "--budget", "2", "--labelled", "100"])
    assert (args.batch_size, args.k_centers_batch_size, args.n_initial) == (5, 2, 100)
    err = capsys.readouterr().err
    assert "--j is deprecated; use --batch-size" in err and "--labelled is deprecated; use --n-initial" in err
    _parser().parse_args(["scale", "select", "pool", "--batch-size", "5"])
    assert capsys.readouterr().err == ""
