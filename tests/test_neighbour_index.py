"""neighbour_index.py's ivfhnsw kind: cells of constant size, chosen through an HNSW graph."""

import numpy as np
import pytest

from dcai_al.data import make_embedding_pool
from dcai_al.neighbour_index import (
    CELL_SIZE,
    build_index,
    exact_neighbours,
    ivfhnsw_nlist,
    recall_at,
    two_level_centroids,
)
from dcai_al.seals import CandidatePool


@pytest.fixture(scope="module")
def pool():
    return make_embedding_pool(30_000, 32, seed=3)[0]


def test_ivfhnsw_reaches_the_target_recall_at_its_chosen_nprobe(pool, capsys):
    index = build_index(pool, "ivfhnsw", verbose=True)
    assert "target 0.95 reached" in capsys.readouterr().out
    assert index.nlist == ivfhnsw_nlist(len(pool)) == len(pool) // CELL_SIZE and index.ntotal == len(pool)
    queries = pool[np.random.default_rng(99).choice(len(pool), 300, replace=False)]  # not the rows nprobe was set on
    assert recall_at(index, queries, exact_neighbours(queries, [(0, pool)], 10)) >= 0.93  # 0.95 on its own sample


def test_ivfhnsw_is_deterministic_for_a_fixed_seed(pool):
    queries = pool[:50]
    a, b = (build_index(pool, "ivfhnsw", seed=5) for _ in range(2))
    assert a.nprobe == b.nprobe
    assert np.array_equal(a.search(queries, 20)[1], b.search(queries, 20)[1])


def test_candidate_pool_works_on_ivfhnsw(pool):
    index = build_index(pool, "ivfhnsw", nlist=16, nprobe=16)  # every cell scanned: exact up to 8-bit codes
    labelled = np.arange(0, 3000, 300)
    approx = CandidatePool(index, pool, 10).update(labelled).candidates
    exact = CandidatePool(build_index(pool), pool, 10).update(labelled).candidates
    assert not np.isin(approx, labelled).any()
    assert np.intersect1d(approx, exact).size >= 0.9 * exact.size


@pytest.mark.parametrize("n", [1, 5, 1023, 1024, 5000])
def test_ivfhnsw_never_has_zero_cells(n, rng):
    X = rng.standard_normal((n, 4)).astype(np.float32)
    index = build_index(X, "ivfhnsw")
    assert index.nlist >= 1 and index.ntotal == n
    assert int(index.search(X[:1], 1)[1][0, 0]) == 0


def test_two_level_centroids_gives_exactly_nlist_cells(rng):
    x = np.concatenate([rng.standard_normal((900, 8)), 50 + rng.standard_normal((100, 8))]).astype(np.float32)
    for nlist in (1, 3, 17, 200, 1000):
        assert two_level_centroids(x, nlist).shape == (nlist, 8)


def test_refine_reranks_the_codes_shortlist_exactly_and_nprobe_still_reaches_the_target(pool, capsys):
    import gc

    import faiss

    index = build_index(pool, "ivfhnsw", refine=True, verbose=True)
    gc.collect()  # the IVF inside has no other reference than the refine index's
    assert "target 0.95 reached" in capsys.readouterr().out
    ivf = faiss.extract_index_ivf(index)
    assert ivf.nlist == ivfhnsw_nlist(len(pool)) and index.ntotal == ivf.ntotal == len(pool)
    queries = pool[:100]
    dist, ids = index.search(queries, 10)
    exact = ((pool[ids] - queries[:, None, :]) ** 2).sum(-1)  # reranked: exact float32 distances, ascending
    assert np.allclose(dist, exact, rtol=1e-4, atol=1e-5) and np.all(np.diff(dist, axis=1) >= 0)
    assert np.array_equal(ids[:, 0], np.arange(100))  # each row is its own nearest, at distance 0
    ivf.nprobe = int(ivf.nlist)  # every cell: what the codes miss, the exact rerank of 2k finds
    truth = exact_neighbours(queries, [(0, pool)], 10)
    assert recall_at(index, queries, truth) >= 0.99
    approx = CandidatePool(index, pool, 10).update(np.arange(0, 3000, 300)).candidates
    assert not np.isin(approx, np.arange(0, 3000, 300)).any()


def test_refine_only_for_8_bit_codes(pool):
    with pytest.raises(ValueError, match="8-bit codes"):
        build_index(pool[:500], "ivf", refine=True)
    with pytest.raises(ValueError, match="k_factor"):
        build_index(pool[:500], "ivfsq", refine=True, k_factor=0.5)
    import faiss

    assert faiss.extract_index_ivf(build_index(pool[:2000], "ivfsq", refine=True, nprobe=3)).nprobe == 3
