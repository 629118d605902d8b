"""A sonic journey: pool songs that lead by sound from one song to another.

Each song of a journey is closer to the goal than the one before (by cosine similarity of the
embeddings, which are unit vectors), no song comes twice, and the steps are as even as the pool
allows. How:

1. **The corridor.** The straight way from the start to the goal is the great circle between their
   embeddings; ``steps`` evenly spaced points on it (spherical interpolation) are the waypoints.
   The songs nearest each waypoint are the candidates, so a journey never wanders off across the
   whole pool; ``variety`` widens the corridor.
2. **Always closer.** Candidates are kept only if they are closer to the goal than the start is;
   ordered by their similarity to the goal, they form a graph where an edge only ever leads closer
   to the goal, so no path can turn back or repeat a song.
3. **Even steps.** Among the paths of exactly ``steps`` songs from the start to the goal, dynamic
   programming finds the one whose sum of squared step lengths is least: squares punish one long
   jump more than several short ones, so the steps come out even and small. ``variety`` multiplies
   each step's cost by random noise (log-normal, of spread ``variety``), so a looser journey takes
   other songs on the way; at variety 0 the journey is always the same.

Near-duplicates (the same recording shared twice, cosine above the dedup threshold) are never two
steps of one journey. With too few songs between, the journey is shorter than asked (the start and
the goal at least). Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# songs nearest each waypoint kept as candidates: at variety 0, and added at variety 1
_PER_WAYPOINT = 12
_PER_WAYPOINT_LOOSE = 36


@dataclass(frozen=True, eq=False)
class JourneyPlan:
    """``rows``: the pool rows between the start and the goal, in order (the ends are not pool rows
    of the plan: they are given as vectors). ``steps``: cosine distance (1 - cosine) of each step,
    start to goal, ``len(rows) + 1`` of them."""

    rows: np.ndarray
    steps: np.ndarray


def waypoints(start: np.ndarray, goal: np.ndarray, count: int) -> np.ndarray:
    """``count`` unit vectors evenly spaced on the great circle from ``start`` to ``goal`` (both
    included), float32 ``[count, D]``. Opposite or equal ends give the straight line's points,
    normalised."""
    start = np.asarray(start, np.float64)
    goal = np.asarray(goal, np.float64)
    fractions = np.linspace(0.0, 1.0, count)[:, None]
    angle = float(np.arccos(np.clip(start @ goal, -1.0, 1.0)))
    if angle < 1e-6 or np.pi - angle < 1e-6:
        points = (1.0 - fractions) * start + fractions * goal
    else:
        points = (np.sin((1.0 - fractions) * angle) * start + np.sin(fractions * angle) * goal) / np.sin(angle)
    norms = np.linalg.norm(points, axis=1, keepdims=True)
    return (points / np.where(norms > 1e-12, norms, 1.0)).astype(np.float32)


def corridor(embeddings: np.ndarray, points: np.ndarray, per_point: int, excluded: np.ndarray) -> np.ndarray:
    """Sorted rows of the ``per_point`` songs nearest each of ``points`` (float32 ``[S, D]``),
    leaving out the rows ``excluded`` (bool ``[N]``) marks."""
    allowed = np.flatnonzero(~excluded)
    if allowed.size == 0:
        return allowed
    similarity = embeddings[allowed] @ points.T  # [n, S]: one matrix product, not S passes
    keep = min(per_point, allowed.size)
    nearest = np.argpartition(-similarity, keep - 1, axis=0)[:keep]
    return np.unique(allowed[nearest.ravel()])


def plan_journey(
    embeddings: np.ndarray,
    start: np.ndarray,
    goal: np.ndarray,
    steps: int,
    *,
    excluded: np.ndarray,
    variety: float,
    dedup_threshold: float,
    rng: np.random.Generator,
) -> JourneyPlan:
    """The journey of at most ``steps`` songs (the ends included, ``steps`` >= 2) from the song of
    embedding ``start`` to the song of ``goal`` through the pool's ``embeddings`` (float32 unit rows
    ``[N, D]``), never through the rows ``excluded`` marks (the two ends themselves, songs without
    audio). ``variety`` in [0, 1] loosens it (see the module); ``rng`` draws that noise."""
    start = np.asarray(start, np.float32)
    goal = np.asarray(goal, np.float32)
    start_closeness = float(start @ goal)
    excluded = excluded | (embeddings @ goal > dedup_threshold) | (embeddings @ start > dedup_threshold)
    per_point = _PER_WAYPOINT + int(round(variety * _PER_WAYPOINT_LOOSE))
    rows = corridor(embeddings, waypoints(start, goal, steps)[1:-1], per_point, excluded) if steps > 2 else []
    rows = np.asarray(rows, np.int64)
    closeness = embeddings[rows] @ goal if rows.size else np.zeros(0, np.float32)
    rows = rows[closeness > start_closeness]
    rows = rows[np.argsort(embeddings[rows] @ goal, kind="stable")]
    nodes = np.vstack([start[None, :], embeddings[rows], goal[None, :]]).astype(np.float32)
    path = _even_path(nodes, steps - 1, variety, dedup_threshold, rng)
    chosen = rows[np.array(path[1:-1], np.int64) - 1]
    similarity = np.einsum("nd,nd->n", nodes[path[:-1]], nodes[path[1:]])
    return JourneyPlan(chosen, (1.0 - similarity).astype(np.float64))


def _even_path(
    nodes: np.ndarray, hops: int, variety: float, dedup_threshold: float, rng: np.random.Generator
) -> list[int]:
    """Indices into ``nodes`` (the start first, the goal last, the others in increasing closeness
    to the goal) of the path of at most ``hops`` steps from the first to the last whose sum of
    squared (noisy) step lengths is least; an edge only ever goes to a node strictly closer to the
    goal, never between near-duplicates (but the start may always step to the goal)."""
    count = len(nodes)
    similarity = nodes @ nodes.T
    closeness = similarity[:, -1]
    cost = 2.0 - 2.0 * similarity.astype(np.float64)  # squared chord length between unit vectors
    if variety > 0:
        cost *= np.exp(variety * rng.standard_normal(cost.shape))
    allowed = (closeness[None, :] > closeness[:, None]) & (similarity <= dedup_threshold)
    allowed[0, -1] = True
    cost[~allowed] = np.inf
    best = np.full(count, np.inf)
    best[0] = 0.0
    back: list[np.ndarray] = []
    reached: list[float] = []  # the cost of reaching the goal in 1, 2, ... hops
    for _ in range(hops):
        totals = best[:, None] + cost
        previous = np.argmin(totals, axis=0)
        best = totals[previous, np.arange(count)]
        back.append(previous)
        reached.append(float(best[-1]))
    hops_taken = _most_hops_reached(reached)
    path = [count - 1]
    for step in range(hops_taken, 0, -1):
        path.append(int(back[step - 1][path[-1]]))
    return path[::-1]


def _most_hops_reached(reached: list[float]) -> int:
    """The largest number of hops in which the goal can be reached (the direct step always can)."""
    return max(hops for hops, total in enumerate(reached, 1) if np.isfinite(total))
