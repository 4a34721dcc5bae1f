"""CHE / U-Multirank-style benchmarking: ``compute_benchmarks(con)`` writes ``marts.benchmark_groups``."""

from ims_indicators.benchmark.compute import compute_benchmarks, unknown_list_members
from ims_indicators.benchmark.peers import PeerSetError, PeerSets, load_peer_sets

__all__ = ["PeerSetError", "PeerSets", "compute_benchmarks", "load_peer_sets", "unknown_list_members"]
