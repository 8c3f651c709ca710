"""Shortest walking paths on the tile grid, with no distance cap.

A path query is answered from a BFS tree rooted at the goal (or at a set of goals): for every
walkable tile the tree stores the next tile towards the goal, so once a goal's tree exists any
start's path is read off by following it. Trees are computed by scipy's C breadth-first search
(about a millisecond) and kept in an LRU cache bounded by memory, so residents heading to the
same beds, counters and doors share the work.

Tie-break (deterministic): the BFS starts at the goal and visits each tile's neighbours in the
order up, left, right, down; every tile's next step is the neighbour through which the search
first reached it. With several goals, they enter the search in row-major order (y, then x).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np

Tile = tuple[int, int]

DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


class PathFinder:
    """Shortest 4-connected paths over the walkable tiles of a grid.

    Args:
        walkable: boolean ``(height, width)`` array.
        cache_bytes: memory budget of the cached BFS trees.
    """

    def __init__(self, walkable: np.ndarray, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.height, self.width = walkable.shape
        self._walk = walkable.reshape(-1).astype(bool)
        self._walk_list: list[bool] = self._walk.tolist()
        n = self.width * self.height
        self._n = n
        self._dtype = np.int16 if n + 1 < 2**15 else np.int32
        per_tree = (n + 1) * np.dtype(self._dtype).itemsize
        self.capacity = max(16, cache_bytes // per_tree)
        self._trees: OrderedDict[object, memoryview] = OrderedDict()
        self._lock = threading.Lock()
        self._graph = None  # built on first use (keeps loading a town fast)
        self._edges: tuple[np.ndarray, np.ndarray] | None = None
        self.trees_built = 0

    # -- public ---------------------------------------------------------------------------------
    def path(self, start: Tile, goal: Tile) -> list[Tile]:
        """Shortest path from ``start`` to ``goal``, both included.

        ``[start]`` if they are equal; ``[]`` if the goal is off the map, not walkable, or cannot
        be reached. The start itself need not be walkable (a resident may stand on a blocked
        tile): the first step then goes to a walkable neighbour.
        """
        s, g = self._index(start), self._index(goal)
        if s is None or g is None:
            return []
        if s == g:
            return [self._tile(s)]
        if not self._walk_list[g]:
            return []
        return self._follow(s, self._tree(g, (g,)), {g})

    def path_to_any(self, start: Tile, goals: Iterable[Tile]) -> list[Tile]:
        """Shortest path from ``start`` to the nearest walkable tile of ``goals``; ``[]`` if none."""
        s = self._index(start)
        if s is None:
            return []
        targets = sorted({g for g in (self._index(t) for t in goals) if g is not None and self._walk_list[g]})
        if not targets:
            return []
        if s in targets:
            return [self._tile(s)]
        if len(targets) == 1:
            return self._follow(s, self._tree(targets[0], (targets[0],)), {targets[0]})
        key = tuple(targets)
        return self._follow(s, self._tree(key, key), set(targets))

    def distance(self, start: Tile, goal: Tile) -> int | None:
        """Number of steps of the shortest path, or ``None`` when unreachable."""
        p = self.path(start, goal)
        return len(p) - 1 if p else None

    def cache_info(self) -> dict[str, int]:
        """Cached trees, capacity, and trees built so far."""
        return {"cached": len(self._trees), "capacity": self.capacity, "built": self.trees_built}

    # -- internals ------------------------------------------------------------------------------
    def _index(self, tile: Tile) -> int | None:
        x, y = int(tile[0]), int(tile[1])
        if 0 <= x < self.width and 0 <= y < self.height:
            return y * self.width + x
        return None

    def _tile(self, i: int) -> Tile:
        return (i % self.width, i // self.width)

    def _follow(self, s: int, nxt: memoryview, goals: set[int]) -> list[Tile]:
        if not self._walk_list[s]:
            return self._follow_from_blocked(s, nxt, goals)
        if nxt[s] < 0:
            return []
        w = self.width
        out = [(s % w, s // w)]
        i = s
        n = self._n
        while i not in goals:
            i = nxt[i]
            if i >= n:  # the virtual node joining several goals: should not be reached
                break
            out.append((i % w, i // w))
        return out

    def _follow_from_blocked(self, s: int, nxt: memoryview, goals: set[int]) -> list[Tile]:
        best: list[Tile] = []
        x, y = self._tile(s)
        for nx, ny in ((x, y - 1), (x - 1, y), (x + 1, y), (x, y + 1)):
            j = self._index((nx, ny))
            if j is None or not self._walk_list[j]:
                continue
            tail = [self._tile(j)] if j in goals else (self._follow(j, nxt, goals) if nxt[j] >= 0 else [])
            if tail and (not best or len(tail) + 1 < len(best)):
                best = [(x, y), *tail]
        return best

    def _tree(self, key: object, roots: tuple[int, ...]) -> memoryview:
        with self._lock:
            tree = self._trees.get(key)
            if tree is not None:
                self._trees.move_to_end(key)
                return tree
        tree = self._build(roots)
        with self._lock:
            self._trees[key] = tree
            self.trees_built += 1
            while len(self._trees) > self.capacity:
                self._trees.popitem(last=False)
        return tree

    def _base_edges(self) -> tuple[np.ndarray, np.ndarray]:
        if self._edges is None:
            w, h = self.width, self.height
            walk = self._walk.reshape(h, w)
            idx = np.arange(w * h, dtype=np.int32).reshape(h, w)
            right = walk[:, :-1] & walk[:, 1:]
            down = walk[:-1, :] & walk[1:, :]
            a = np.concatenate([idx[:, :-1][right], idx[:-1, :][down]])
            b = np.concatenate([idx[:, 1:][right], idx[1:, :][down]])
            self._edges = (np.concatenate([a, b]), np.concatenate([b, a]))
        return self._edges

    def _csr(self, extra_roots: tuple[int, ...] = ()):  # noqa: ANN202 - scipy type
        from scipy.sparse import csr_matrix

        rows, cols = self._base_edges()
        size = self._n
        if extra_roots:
            hub = self._n
            size += 1
            roots = np.asarray(extra_roots, dtype=np.int32)
            rows = np.concatenate([rows, np.full(len(roots), hub, dtype=np.int32)])
            cols = np.concatenate([cols, roots])
        data = np.ones(len(rows), dtype=np.int8)
        graph = csr_matrix((data, (rows, cols)), shape=(size, size))
        graph.sort_indices()  # neighbour order by index = up, left, right, down
        return graph

    def _with_hub(self, roots: tuple[int, ...]):  # noqa: ANN202 - scipy type
        """The walking graph plus a virtual last node joined to ``roots`` (sorted), made from the
        cached graph's arrays (the same matrix ``_csr(roots)`` builds, without sorting all edges
        again for each set of goals: on a big town's map that cost more than the search)."""
        from scipy.sparse import csr_matrix

        if self._graph is None:
            self._graph = self._csr()
        base: Any = self._graph
        hub_row: np.ndarray = np.array(list(roots), dtype=base.indices.dtype)
        indices = np.concatenate([base.indices, hub_row])
        indptr = np.concatenate([base.indptr, [base.indptr[-1] + len(hub_row)]]).astype(base.indptr.dtype)
        data = np.ones(len(indices), dtype=np.int8)
        size = self._n + 1
        # a square matrix: the base rows reach no further than column n - 1, the hub row's columns are roots
        graph = csr_matrix((data, indices, indptr), shape=(size, size), copy=False)
        graph.has_sorted_indices = True
        return graph

    def _build(self, roots: tuple[int, ...]) -> memoryview:
        from scipy.sparse.csgraph import breadth_first_order

        if len(roots) == 1:
            if self._graph is None:
                self._graph = self._csr()
            graph, start = self._graph, roots[0]
        else:
            graph, start = self._with_hub(roots), self._n
        _, pred = breadth_first_order(graph, start, directed=True, return_predecessors=True)
        pred = pred[: self._n]
        tree = np.where(pred < 0, -1, pred).astype(self._dtype)
        for r in roots:
            tree[r] = r
        return memoryview(tree.data)
