"""Project-wide test settings: one torch thread per pytest worker (``make test`` runs two workers)."""

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    """Every test starts at one torch thread: a test that runs a benchmark in-process (which sets its own
    thread counts) would otherwise change the count for the tests after it in the same worker, and runs
    compared for identical predictions (local vs Ray, bf16 reruns) differ at another thread count."""
    torch.set_num_threads(1)
