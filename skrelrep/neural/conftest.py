"""Doctest settings for skrelrep.neural: one thread for torch and for BLAS.

The doctests train tiny nets, for which thread start-up costs more than it saves, and
several threads slow to a crawl on a machine whose cores are busy.
"""

import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_thread():
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(n_threads)
