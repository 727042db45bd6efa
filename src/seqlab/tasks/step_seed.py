"""Training randomness as a function of (run seed, rank, batch), so resuming stays exact.

Lightning restores weights, optimizer and loop state, but not torch's global generator: a
resumed run would draw other dropout masks, noise and augmentations than the run it
continues. Seeding the generator before each training batch from the run's seed, the
process rank and the batch's position in the fit (which the loop state restores) makes
every draw the same whether or not the run was interrupted, and differ across DDP ranks.
"""

import numpy as np
import torch


def batch_seed(run_seed: int, rank: int, batch: int) -> int:
    """A seed for one batch of one rank: independent streams for every (rank, batch)."""
    state = np.random.SeedSequence([run_seed, rank, batch]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def seed_batch(run_seed: int, rank: int, batch: int) -> None:
    """Seed torch's generators (CPU and every GPU) for this training batch."""
    torch.manual_seed(batch_seed(run_seed, rank, batch))
