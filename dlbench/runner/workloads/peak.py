"""The `peak` workload: the device's achievable ceiling, measured (dlbench.runner.scenarios.peak).

Dense square matrix products at every precision the device supports (one `peak-matmul` result each, metric
`achieved_flops_per_s`), and a large on-device copy (`peak-bandwidth`, metric `bandwidth_bytes_per_s`). One run
writes one fragment with all these results. Defaults: 5 untimed operations, then 20 timed ones per result.
"""

from .base import Workload

WORKLOAD = Workload(
    name="peak", scenario="peak", dataset="synthetic", model=None,
    description="device ceiling: dense matmul FLOP/s per precision and on-device copy bandwidth",
    batch_size=1, warmup=5, iterations=20,
)
