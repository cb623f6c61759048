"""Selection past one machine: a sharded pool, scored and selected with Dask.

Lab 1's loop holds the whole pool in one process. Here the pool lives on
disk as shards (one ``.npy`` file each, plus ``pool.json``), and the work is
spread over a Dask cluster, a :class:`distributed.LocalCluster` on a laptop or
a real one given its scheduler address. The methods are the labs' own, one
module each:

* :mod:`~dcai_al.scale.storage`: :class:`ShardedPool`, written all-or-nothing
  by :func:`write_pool` and :func:`write_embedding_pool`;
* :mod:`~dcai_al.scale.scoring`: :func:`score_pool` (lazy acquisition
  scores) and :func:`top_j` (a per-chunk top-J and a tree of merges);
* :mod:`~dcai_al.scale.kcenters`: :func:`k_center_greedy`, one Dask actor per
  shard; the same answer as :func:`dcai_al.diversity.k_center_greedy`, and it
  survives a lost worker;
* :mod:`~dcai_al.scale.index`: :func:`build_sharded_index`, a faiss IVF or
  IVF-PQ index for Lab 3's :class:`~dcai_al.seals.CandidatePool`;
* :mod:`~dcai_al.scale.cluster`: :func:`connect`;
* :mod:`~dcai_al.scale.job`: :func:`select`, the ``dcai-al scale select`` job.
"""

from .cluster import connect
from .index import build_sharded_index
from .job import select, write_json
from .kcenters import k_center_greedy
from .scoring import _score_block as _score_block  # the kernel that tests and bench_scale time
from .scoring import score_pool, top_j
from .storage import ShardedPool, open_pool, write_embedding_pool, write_pool

__all__ = [
    "ShardedPool",
    "build_sharded_index",
    "connect",
    "k_center_greedy",
    "open_pool",
    "score_pool",
    "select",
    "top_j",
    "write_embedding_pool",
    "write_json",
    "write_pool",
]
