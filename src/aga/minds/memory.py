"""The memory stream of one resident: events, chats and thoughts, with their embeddings.

Nodes have int ids (1, 2, ...) private to the resident. Scores used by retrieval are kept in
numpy arrays that grow by doubling, so retrieval over thousands of nodes is a few vector
operations; the retrievable nodes also have their own compact arrays (vectors, importance, last
access, in row order), kept up to date as nodes are added, rated, embedded and touched, so a
query reads them as they are instead of gathering them from the whole stream. The store persists nodes as JSON records (:meth:`MemoryStream.drain_changes`) and
vectors by embedding text; :meth:`MemoryStream.from_records` puts both back together.

A record looks like the original's ``nodes.json`` entries plus ``id`` and ``last_accessed``::

    {"id": 12, "type": "event", "depth": 0, "created": "2023-02-13 07:01:10",
     "expiration": null, "last_accessed": "2023-02-13 07:01:10",
     "subject": "Isabella Rodriguez", "predicate": "is", "object": "coffee",
     "description": "Isabella Rodriguez is brewing coffee", "embedding_key": "brewing coffee",
     "poignancy": 3, "keywords": ["isabella rodriguez", "coffee"], "filling": []}

``poignancy`` is null while the importance of a node is still to be asked (seed memories);
such nodes, and nodes whose vector is missing, are listed by :meth:`MemoryStream.pending`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np

from aga.errors import StoreError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
KINDS = ("event", "chat", "thought")
_EPOCH = datetime(2000, 1, 1)


def game_seconds(when: datetime) -> float:
    """Seconds from a fixed epoch to ``when`` (naive game time; no time zones involved)."""
    return (when - _EPOCH).total_seconds()


@lru_cache(maxsize=8192)
def _fmt_time(when: datetime) -> str:
    return when.strftime(TIME_FORMAT)


@lru_cache(maxsize=1024)
def _access_json(when: datetime) -> str:
    return json.dumps(_fmt_time(when), ensure_ascii=False)


def _fmt(when: datetime | None) -> str | None:
    """The record text of a time (a step's retrievals stamp many nodes with the same time)."""
    return None if when is None else _fmt_time(when)


_ACCESS_MARK = "\x00last accessed\x00"
_ACCESS_CUT = '"last_accessed":' + json.dumps(_ACCESS_MARK)
"""Where a record text is cut: the key with the mark as its value. Inside a JSON string a quote
is escaped, so ``"last_accessed":`` unescaped is the record's key (its only dict level), even
when a description is the mark itself."""


def record_text(record: Mapping[str, Any]) -> str:
    """The store's JSON text of a memory record (sorted keys, compact, UTF-8 kept)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, TIME_FORMAT)


@dataclass(slots=True)
class MemoryNode:
    """One memory: an event seen, a conversation had, or a thought formed.

    ``filling`` holds, by kind: event -> ids of chat nodes it refers to; chat -> the lines
    ``[[speaker, utterance], ...]``; thought -> ids of the evidence nodes (or empty).
    """

    id: int
    kind: str
    created: datetime
    last_accessed: datetime
    subject: str
    predicate: str
    object: str
    description: str
    embedding_key: str
    importance: int | None
    keywords: tuple[str, ...] = ()
    filling: list[Any] = field(default_factory=list)
    depth: int = 0
    expiration: datetime | None = None
    defaulted: bool = False
    """The importance (or text) is a stand-in for an answer the model failed to give: it is kept
    out of the reflection trigger and rated again at the next chance (record key ``defaulted``)."""

    @property
    def spo(self) -> tuple[str, str, str]:
        """The (subject, predicate, object) triple."""
        return (self.subject, self.predicate, self.object)

    def to_record(self) -> dict[str, Any]:
        """The JSON-able record of this node."""
        return {
            "id": self.id,
            "type": self.kind,
            "depth": self.depth,
            "created": _fmt(self.created),
            "expiration": _fmt(self.expiration),
            "last_accessed": _fmt(self.last_accessed),
            "subject": self.subject,
            "predicate": self.predicate,
            "object": self.object,
            "description": self.description,
            "embedding_key": self.embedding_key,
            "poignancy": self.importance,
            "keywords": list(self.keywords),
            "filling": [list(x) if isinstance(x, (list, tuple)) else x for x in self.filling],
            **({"defaulted": True} if self.defaulted else {}),
        }

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> MemoryNode:
        """Rebuild a node from :meth:`to_record` output."""
        created = _parse(rec["created"])
        if created is None:
            raise ValueError("'created' is missing")
        accessed = _parse(rec.get("last_accessed")) or created
        imp = rec.get("poignancy")
        return cls(
            id=int(rec["id"]),
            kind=str(rec["type"]),
            created=created,
            last_accessed=accessed,
            subject=str(rec["subject"]),
            predicate=str(rec["predicate"]),
            object=str(rec["object"]),
            description=str(rec["description"]),
            embedding_key=str(rec["embedding_key"]),
            importance=None if imp is None else int(imp),
            keywords=tuple(rec.get("keywords") or ()),
            filling=list(rec.get("filling") or []),
            depth=int(rec.get("depth", 0)),
            expiration=_parse(rec.get("expiration")),
            defaulted=bool(rec.get("defaulted", False)),
        )


class MemoryStream:
    """All memories of one resident, with numpy arrays for fast retrieval."""

    def __init__(self) -> None:
        self._nodes: list[MemoryNode] = []
        self._row: dict[int, int] = {}
        self._kw: dict[str, list[int]] = {}
        self._event_ids: list[int] = []
        self._chat_ids: list[int] = []
        self._changed: set[int] = set()
        self._touched: set[int] = set()
        self._parts: dict[int, tuple[str, str]] = {}
        """Node id -> its record text cut around the ``last_accessed`` value, kept for nodes
        retrieval touched (their only change, step after step, is that time)."""
        self._ratings: dict[tuple[str, str], int] = {}
        self._retried: set[int] = set()
        self._recent: frozenset[tuple[str, str, str]] = frozenset()
        self._recent_key: tuple[int, int] = (-1, -1)
        self._cap = 0
        self._dim = 0
        self._vec = np.zeros((0, 0), dtype=np.float32)
        self._has_vec = np.zeros(0, dtype=bool)
        self._imp = np.zeros(0, dtype=np.float64)
        self._acc = np.zeros(0, dtype=np.float64)
        self._retrievable = np.zeros(0, dtype=bool)
        # compact arrays of the retrievable nodes with a vector, in row order (see arrays())
        self._cpos = np.zeros(0, dtype=np.intp)  # row -> place in the compact arrays, or -1
        self._ccap = 0
        self._cn = 0
        self._crows = np.zeros(0, dtype=np.intp)
        self._cvec = np.zeros((0, 0), dtype=np.float32)
        self._cimp = np.zeros(0, dtype=np.float64)
        self._cacc = np.zeros(0, dtype=np.float64)
        self.next_id = 1

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[MemoryNode]:
        return iter(self._nodes)

    def node(self, node_id: int) -> MemoryNode:
        """The node with id ``node_id`` (KeyError if there is none)."""
        return self._nodes[self._row[node_id]]

    def has(self, node_id: int) -> bool:
        """Whether a node with this id exists."""
        return node_id in self._row

    def has_vector(self, node_id: int) -> bool:
        """Whether the node's embedding is known."""
        return bool(self._has_vec[self._row[node_id]])

    @property
    def dim(self) -> int:
        """Embedding dimension (0 until the first vector arrives)."""
        return self._dim

    # ------------------------------------------------------------------ adding
    def add(
        self,
        kind: str,
        *,
        created: datetime,
        subject: str,
        predicate: str,
        obj: str,
        description: str,
        embedding_key: str,
        importance: int | None,
        keywords: Iterable[str] = (),
        filling: list[Any] | None = None,
        vector: np.ndarray | None = None,
        depth: int = 0,
        expiration: datetime | None = None,
        defaulted: bool = False,
    ) -> MemoryNode:
        """Append a new node and return it (its id is the next free one). ``defaulted`` marks a
        stand-in importance or text (see :attr:`MemoryNode.defaulted`)."""
        if kind not in KINDS:
            raise ValueError(f"memory kind must be one of {KINDS}, not {kind!r}")
        kws = tuple(dict.fromkeys(k.lower() for k in keywords if k))
        node = MemoryNode(
            id=self.next_id,
            kind=kind,
            created=created,
            last_accessed=created,
            subject=subject,
            predicate=predicate,
            object=obj,
            description=description,
            embedding_key=embedding_key,
            importance=importance,
            keywords=kws,
            filling=list(filling or []),
            depth=depth,
            expiration=expiration,
            defaulted=defaulted,
        )
        self._insert(node, vector)
        self._changed.add(node.id)
        return node

    def _insert(self, node: MemoryNode, vector: np.ndarray | None) -> None:
        row = len(self._nodes)
        self._grow(row + 1)
        self._nodes.append(node)
        self._row[node.id] = row
        self.next_id = max(self.next_id, node.id + 1)
        self._imp[row] = float(node.importance or 0)
        self._acc[row] = game_seconds(node.last_accessed)
        self._retrievable[row] = node.kind != "chat" and "idle" not in node.embedding_key
        self._has_vec[row] = False
        self._cpos[row] = -1
        if vector is not None:
            self._put_vector(row, vector)
        if node.importance is not None and not node.defaulted:
            self._ratings[(node.kind, node.description)] = node.importance
        for kw in node.keywords:
            self._kw.setdefault(kw, []).append(node.id)
        if node.kind == "event":
            self._event_ids.append(node.id)
        elif node.kind == "chat":
            self._chat_ids.append(node.id)

    def _grow(self, need: int) -> None:
        if need <= self._cap:
            return
        cap = max(64, self._cap * 2, need)
        for name in ("_has_vec", "_imp", "_acc", "_retrievable", "_cpos"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        if self._dim:
            vec = np.zeros((cap, self._dim), dtype=np.float32)
            vec[: self._vec.shape[0]] = self._vec
            self._vec = vec
        self._cap = cap

    def _put_vector(self, row: int, vector: np.ndarray) -> None:
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if not self._dim:
            self._dim = v.shape[0]
            self._vec = np.zeros((self._cap, self._dim), dtype=np.float32)
        if v.shape[0] != self._dim:
            raise ValueError(f"embedding has {v.shape[0]} dimensions, this memory stream uses {self._dim}")
        norm = float(np.linalg.norm(v))
        self._vec[row] = v / norm if norm > 0 else v
        self._has_vec[row] = True
        if self._retrievable[row]:
            self._compact_put(row)

    # ------------------------------------------------------------------ compact arrays
    def _compact_put(self, row: int) -> None:
        """Bring ``row`` (retrievable, with a vector) into the compact arrays, in row order."""
        pos = int(self._cpos[row])
        if pos >= 0:  # a new vector for a node already there
            self._cvec[pos] = self._vec[row]
            return
        n = self._cn
        if n + 1 > self._ccap or self._cvec.shape[1] != self._dim:
            cap = max(64, self._ccap * 2, n + 1)
            for name in ("_crows", "_cimp", "_cacc"):
                old = getattr(self, name)
                new = np.zeros(cap, dtype=old.dtype)
                new[:n] = old[:n]
                setattr(self, name, new)
            vec = np.zeros((cap, self._dim), dtype=np.float32)
            if n:
                vec[:n] = self._cvec[:n]
            self._cvec = vec
            self._ccap = cap
        # nodes almost always arrive in row order; a vector that comes late (a node embedded
        # after it was added) is put in its place, shifting the later ones
        at = n if n == 0 or self._crows[n - 1] < row else int(np.searchsorted(self._crows[:n], row))
        if at < n:
            for arr in (self._crows, self._cimp, self._cacc, self._cvec):
                arr[at + 1 : n + 1] = arr[at:n]
            self._cpos[self._crows[at + 1 : n + 1]] += 1
        self._crows[at] = row
        self._cvec[at] = self._vec[row]
        self._cimp[at] = self._imp[row]
        self._cacc[at] = self._acc[row]
        self._cpos[row] = at
        self._cn = n + 1

    # ------------------------------------------------------------------ updating
    def set_vector(self, node_id: int, vector: np.ndarray) -> None:
        """Attach the embedding of a node (vectors are not part of its record)."""
        self._put_vector(self._row[node_id], vector)

    def set_importance(self, node_id: int, importance: int, *, defaulted: bool = False) -> None:
        """Set a node's importance (seed memories rated after creation, deferred ratings, a
        stand-in rated again); ``defaulted`` marks a stand-in for a rating the model failed to give."""
        row = self._row[node_id]
        node = self._nodes[row]
        node.importance = int(importance)
        node.defaulted = defaulted
        self._imp[row] = float(importance)
        if self._cpos[row] >= 0:
            self._cimp[self._cpos[row]] = self._imp[row]
        if not defaulted:
            self._ratings[(node.kind, node.description)] = node.importance
        self._changed.add(node_id)
        self._parts.pop(node_id, None)

    def stand_ins(self) -> list[MemoryNode]:
        """Nodes whose importance is a stand-in for a failed rating and that were not handed out
        by this call before (each is rated again once per session), oldest first."""
        out = [n for n in self._nodes if n.defaulted and n.id not in self._retried]
        self._retried.update(n.id for n in out)
        return out

    def newest_accessed(self, count: int) -> list[MemoryNode]:
        """The ``count`` retrievable nodes (not chats, not about idleness) accessed last, oldest
        first: sorted by (last access, id) over the arrays, as rows are in id order (nodes are
        added with rising ids and loaded in id order)."""
        n = len(self._nodes)
        rows = np.flatnonzero(self._retrievable[:n])
        if count <= 0 or rows.size == 0:
            return []
        order = rows[np.argsort(self._acc[rows], kind="stable")][-count:]
        return [self._nodes[int(i)] for i in order]

    def restamp(self, node_id: int, when: datetime) -> None:
        """Set a node's creation and last access to ``when`` (seed memories get the start time)."""
        row = self._row[node_id]
        node = self._nodes[row]
        node.created = when
        node.last_accessed = when
        self._acc[row] = game_seconds(when)
        if self._cpos[row] >= 0:
            self._cacc[self._cpos[row]] = self._acc[row]
        self._changed.add(node_id)
        self._parts.pop(node_id, None)

    def touch(self, node_ids: Iterable[int], when: datetime) -> None:
        """Mark nodes as accessed at game time ``when`` (recency counts from here)."""
        secs = game_seconds(when)
        for nid in node_ids:
            row = self._row[nid]
            node = self._nodes[row]
            if node.last_accessed != when:
                node.last_accessed = when
                self._acc[row] = secs
                pos = self._cpos[row]
                if pos >= 0:
                    self._cacc[pos] = secs
                self._changed.add(nid)
                self._touched.add(nid)

    def drain_changes(self) -> list[dict[str, Any]]:
        """Records of nodes added or modified since the last call, in id order."""
        if not self._changed:
            return []
        out = [self._nodes[self._row[i]].to_record() for i in sorted(self._changed)]
        self._changed.clear()
        self._touched.clear()
        return out

    def drain_change_texts(self) -> list[tuple[int, str]]:
        """As :meth:`drain_changes`, as (id, :func:`record_text` of the record) pairs. A node
        retrieval touched keeps its text cut around its last access, so the next touch joins
        three strings instead of encoding the whole record again."""
        if not self._changed:
            return []
        out: list[tuple[int, str]] = []
        parts, touched, nodes, rows = self._parts, self._touched, self._nodes, self._row
        for i in sorted(self._changed):
            node = nodes[rows[i]]
            cut = parts.get(i)
            if cut is None:
                record = node.to_record()
                record["last_accessed"] = _ACCESS_MARK
                head, _mark, tail = record_text(record).partition(_ACCESS_CUT)
                cut = (head + '"last_accessed":', tail)
                if i in touched:
                    parts[i] = cut
            out.append((i, cut[0] + _access_json(node.last_accessed) + cut[1]))
        self._changed.clear()
        touched.clear()
        return out

    # ------------------------------------------------------------------ queries
    def pending(self) -> list[MemoryNode]:
        """Nodes whose importance has not been rated yet or whose vector is missing."""
        n = len(self._nodes)
        missing = np.flatnonzero(~self._has_vec[:n])
        out = {int(r) for r in missing}
        out.update(r for r, node in enumerate(self._nodes) if node.importance is None)
        return [self._nodes[r] for r in sorted(out)]

    def known_rating(self, kind: str, description: str) -> int | None:
        """The importance this resident already gave a memory of this kind and text, if any."""
        return self._ratings.get((kind, description))

    def recent_event_triples(self, count: int) -> set[tuple[str, str, str]]:
        """(subject, predicate, object) of the newest ``count`` event nodes."""
        if count <= 0:
            return set()
        key = (len(self._event_ids), count)
        if self._recent_key != key:
            self._recent = frozenset(self.node(i).spo for i in self._event_ids[-count:])
            self._recent_key = key
        return set(self._recent)

    def by_keyword(
        self,
        keyword: str,
        kinds: tuple[str, ...] = ("event", "thought"),
        *,
        before: datetime | None = None,
        limit: int | None = None,
    ) -> list[MemoryNode]:
        """Nodes carrying ``keyword`` (case-insensitive), newest first; only those created before
        ``before`` when given, and the first ``limit`` of them (the walk stops there)."""
        out: list[MemoryNode] = []
        if limit is not None and limit <= 0:
            return out
        nodes, row = self._nodes, self._row
        for i in reversed(self._kw.get(keyword.lower(), ())):
            n = nodes[row[i]]
            if n.kind in kinds and (before is None or n.created < before):
                out.append(n)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def last_chat_with(self, name: str) -> MemoryNode | None:
        """The newest chat node whose object is ``name``."""
        for nid in reversed(self._chat_ids):
            node = self.node(nid)
            if node.object == name:
                return node
        return None

    def newest(self, kinds: tuple[str, ...], count: int) -> list[MemoryNode]:
        """The newest ``count`` nodes of the given kinds, oldest first."""
        out: list[MemoryNode] = []
        for node in reversed(self._nodes):
            if len(out) >= count:
                break
            if node.kind in kinds:
                out.append(node)
        out.reverse()
        return out

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, vectors, importance, last-access seconds) of the retrievable nodes.

        Retrievable = events and thoughts that are not about idleness and have a vector. Rows
        come in ascending order. The arrays are read-only views of the stream's own compact
        arrays (no copy is made): they hold until the stream next changes, so read them at once.
        """
        n = self._cn
        if not self._dim or n == 0:
            return (
                np.zeros(0, dtype=np.intp),
                np.zeros((0, max(self._dim, 1)), dtype=np.float32),
                np.zeros(0),
                np.zeros(0),
            )
        out = (self._crows[:n], self._cvec[:n], self._cimp[:n], self._cacc[:n])
        for arr in out:
            arr.flags.writeable = False
        return out

    def node_at_row(self, row: int) -> MemoryNode:
        """The node stored at internal row ``row`` (rows come from :meth:`arrays`)."""
        return self._nodes[row]

    # ------------------------------------------------------------------ persistence
    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], vectors: Mapping[str, np.ndarray]
    ) -> MemoryStream:
        """Rebuild a stream from stored records and vectors keyed by ``embedding_key``.

        Nodes whose vector is not in ``vectors`` come back without one and are listed by
        :meth:`pending`, so the resident embeds them again instead of failing.
        """
        stream = cls()
        rows = list(records)
        for k, rec in enumerate(rows):
            if not isinstance(rec, Mapping) or not isinstance(rec.get("id"), int):
                raise StoreError(f"memory record #{k + 1} has no integer 'id': {str(rec)[:120]}")
        for rec in sorted(rows, key=lambda r: int(r["id"])):
            try:
                node = MemoryNode.from_record(rec)
            except (KeyError, TypeError, ValueError) as err:
                raise StoreError(
                    f"memory record {rec['id']} is unreadable: {type(err).__name__} {err}"
                ) from None
            if node.id in stream._row:
                raise StoreError(f"memory record {node.id} appears twice")
            stream._insert(node, vectors.get(node.embedding_key))
        return stream
