"""What the peer scripts (PyTorch, JAX) share: the SPEC.md timing rule and W2's lattice."""
import statistics
import time


def measure(fn, repeats, ready=lambda out: out):
    """Median seconds of `repeats` timed calls of fn after one warm-up call, and the last result.
    `ready` waits for an asynchronous result (jax.block_until_ready)."""
    ready(fn())
    times = []
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def lattice_springs(g):
    """W2's G x G lattice: particle (i, j) at (0.02 i, 0.3 + 0.02 j), index i G + j, and the
    springs' first and second particles in SPEC.md's order."""
    idx = lambda i, j: i * g + j
    positions = [[0.02 * i, 0.3 + 0.02 * j] for i in range(g) for j in range(g)]
    first, second = [], []
    for i in range(g):
        for j in range(g):
            if i + 1 < g:
                first.append(idx(i, j)); second.append(idx(i + 1, j))
            if j + 1 < g:
                first.append(idx(i, j)); second.append(idx(i, j + 1))
            if i + 1 < g and j + 1 < g:
                first.append(idx(i, j)); second.append(idx(i + 1, j + 1))
                first.append(idx(i + 1, j)); second.append(idx(i, j + 1))
    return positions, first, second


MASK = (1 << 64) - 1


def splitmix_values(shape, low, high, seed):
    """splitmix64 -> uniform [low, high) as nested lists of `shape` (row-major)."""
    count = 1
    for extent in shape:
        count *= extent
    state, values = seed, []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        z ^= z >> 31
        values.append(low + (high - low) * (z >> 11) * 2.0 ** -53)
    for extent in reversed(shape[1:]):
        values = [values[i:i + extent] for i in range(0, len(values), extent)]
    return values
