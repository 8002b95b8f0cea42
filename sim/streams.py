"""Random streams: one generator per (root seed, process, week), so processes never shift each other.

Common random numbers need more than one stream per side: if every world process drew from one
weekly generator in sequence, a policy that changes how many draws one process takes (more
arrests, fewer fights) would shift the draws of every process after it. Here each process has its
own generator, derived from the root seed's world or policy sequence, the process's index and the
week alone (numpy ``SeedSequence`` spawn keys). A process's draws in week t are therefore the same
under every policy, whatever the other processes did; only how many of them it uses can differ.

The processes are listed once, below; asking for an unlisted name is an error (a typo would
otherwise silently share a stream).
"""

from __future__ import annotations

import numpy as np

# What cartels, communities and the outside world do (the world's side).
WORLD = ("init", "flows", "recruitment", "leaders", "expansion", "fights", "bystanders", "succession",
         "decisions", "crews", "predation", "background", "mesa")
# What the state does (the policy's side).
POLICY = ("deploy", "arrests", "suspects", "hunt", "courts", "release")


class Streams(dict):
    """Generators for one side (world or policy), re-derived every week.

    ``streams.week(t)`` sets the week; ``streams["fights"]`` is that week's generator for the
    process, created on first use and reused within the week. (A dict of the week's generators:
    a lookup of one already made is a plain dict lookup, with no Python call; ``__missing__``
    makes the others. Making a generator takes no draws, so when it is made changes nothing.)
    """

    def __init__(self, seq: np.random.SeedSequence, processes: tuple[str, ...]):
        super().__init__()
        self._entropy, self._key = seq.entropy, tuple(seq.spawn_key)
        self._index = {name: k for k, name in enumerate(processes)}
        self._week = 0

    def week(self, week: int) -> None:
        """Start week ``week``: every process's generator is derived anew from (process, week)."""
        self._week = week
        self.clear()

    def seed_sequence(self, process: str) -> np.random.SeedSequence:
        return np.random.SeedSequence(self._entropy, spawn_key=(*self._key, self._index[process], self._week))

    def __missing__(self, process: str) -> np.random.Generator:
        if process not in self._index:
            raise KeyError(f"unknown random process {process!r} (known: {', '.join(self._index)})")
        gen = self[process] = np.random.default_rng(self.seed_sequence(process))
        return gen
