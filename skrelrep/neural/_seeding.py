"""Seeded torch randomness that leaves the caller's global RNG state untouched."""

import contextlib

import numpy as np
import torch
from sklearn.utils import check_random_state

__all__ = ["draw_seed", "offset_seed", "seeded"]

_MAX_SEED = np.iinfo(np.int32).max


def draw_seed(random_state):
    """An int seed from ``random_state``, or None to leave torch's RNG alone."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(_MAX_SEED))


def offset_seed(seed, offset):
    """A second, distinct seed derived from ``seed`` (None stays None)."""
    return None if seed is None else (seed + 1 + int(offset)) % _MAX_SEED


@contextlib.contextmanager
def seeded(seed, device):
    """Run the block with torch seeded by ``seed``, then restore the RNG state.

    Forks the CPU generator and, for a CUDA ``device``, that device's generator, so
    initialisation, shuffling and dropout are reproducible without changing what the
    rest of the program draws. ``seed=None`` does nothing.
    """
    if seed is None:
        yield
        return
    devices = []
    if device is not None and torch.device(device).type == "cuda":
        index = torch.device(device).index
        devices = [torch.cuda.current_device() if index is None else index]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
