"""SQLite results store.

One row per (method, provenance, dataset, image, SNR, channel, seed, size), written in its own
transaction after the received image is safely on disk, so a run killed at any point loses at
most the rows in flight and a rerun neither duplicates nor redoes finished rows. Only the sweep
driver writes; workers return rows to it.

A file this bench cannot use (not SQLite, another schema version, another program's tables,
read-only) is refused *before* anything is written to it.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bench.errors import UserError

SCHEMA_VERSION = 2
TABLES = {"results", "set_metrics", "claims"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY,
    method TEXT NOT NULL,
    provenance TEXT NOT NULL,
    dataset TEXT NOT NULL,
    image_id TEXT NOT NULL,
    snr REAL NOT NULL,
    channel TEXT NOT NULL,
    seed INTEGER NOT NULL,
    size INTEGER NOT NULL,
    task TEXT NOT NULL,
    received_path TEXT NOT NULL,
    channel_uses INTEGER NOT NULL,
    cbr_paper REAL NOT NULL,
    cbr_complex REAL NOT NULL,
    bpp REAL,
    decode_failures INTEGER NOT NULL,
    text_sent TEXT,
    text_received TEXT,
    times TEXT NOT NULL,
    metrics TEXT NOT NULL,
    metric_refs TEXT NOT NULL,
    weights TEXT NOT NULL,
    info TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (method, provenance, dataset, image_id, snr, channel, seed, size)
);
CREATE TABLE IF NOT EXISTS set_metrics (
    method TEXT NOT NULL,
    provenance TEXT NOT NULL,
    dataset TEXT NOT NULL,
    snr REAL NOT NULL,
    channel TEXT NOT NULL,
    seed INTEGER NOT NULL,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    lo REAL,
    hi REAL,
    n INTEGER NOT NULL,
    PRIMARY KEY (method, provenance, dataset, snr, channel, seed, size, name)
);
CREATE TABLE IF NOT EXISTS claims (
    unit TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL
);
"""

ROW_FIELDS = (
    "method", "provenance", "dataset", "image_id", "snr", "channel", "seed", "size", "task", "received_path",
    "channel_uses", "cbr_paper", "cbr_complex", "bpp", "decode_failures", "text_sent",
    "text_received", "times", "metrics", "metric_refs", "weights", "info", "created",
)
_JSON_FIELDS = ("times", "metrics", "metric_refs", "weights", "info")
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class Row:
    method: str
    dataset: str
    image_id: str
    snr: float
    channel: str
    seed: int
    size: int
    task: str
    received_path: str
    channel_uses: int
    cbr_paper: float
    cbr_complex: float
    bpp: float | None
    decode_failures: int
    text_sent: str | None
    text_received: str | None
    times: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    provenance: str = ""
    weights: dict[str, str] = field(default_factory=dict)  # role -> sha256 of the trained file
    metric_refs: dict[str, str] = field(default_factory=dict)  # metric key -> "original" | "target"
    id: int | None = None  # database id once stored

    def key(self) -> tuple:
        return (self.method, self.provenance, self.image_id, float(self.snr))


def _inspect(path: Path) -> tuple[int, set[str]]:
    """(user_version, tables) of an existing database file, opened read-only; UserError if not SQLite."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UserError(f"cannot read results database {path} ({exc.strerror}); choose another --out") from None
    if head and head != SQLITE_MAGIC:
        raise UserError(f"results database {path} is not an SQLite database (another program's file?); it was left untouched — "
                        "point --out at another directory or move the file away")
    if not head:
        return 0, set()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"cannot open results database {path}: {exc}; it was left untouched — point --out at a "
                        "fresh directory or remove the file") from None
    return version, tables


class ResultStore:
    def __init__(self, path: str | os.PathLike, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        if self.path.exists():
            version, tables = _inspect(self.path)
            if tables and (version != SCHEMA_VERSION or not tables <= TABLES):
                what = (f"schema version {version}, this bench writes version {SCHEMA_VERSION}"
                        if tables & TABLES else f"other tables ({', '.join(sorted(tables - TABLES))})")
                raise UserError(f"results database {self.path} has {what}; it was left untouched — use another "
                                "--out directory (or move the old database away)")
            if not readonly and not os.access(self.path, os.W_OK):
                raise UserError(f"results database {self.path} is read-only; make it writable or choose another "
                                "--out (reading it with 'bench report' works as it is)")
            if not readonly and not os.access(self.path.parent, os.W_OK):
                raise UserError(f"the folder of results database {self.path} is read-only (SQLite needs to write "
                                "its journal beside it); choose another --out")
        elif readonly:
            raise UserError(f"no results database at {self.path}; run 'bench run' first")
        try:
            if readonly:
                self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            with self.conn:
                self.conn.executescript(_SCHEMA)
                self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise UserError(f"cannot open results database {self.path}: {exc}; "
                            "point --out at a fresh directory or remove the file") from None
        except OSError as exc:
            raise UserError(f"cannot create results database {self.path}: {exc.strerror}; "
                            "choose a writable --out directory") from None

    def close(self) -> None:
        self.conn.close()

    def done_keys(self, dataset: str, channel: str, seed: int, size: int) -> set[tuple[str, str, str, float]]:
        """(method, provenance, image_id, snr) of the finished rows of one sweep scope."""
        cur = self.conn.execute(
            "SELECT method, provenance, image_id, snr FROM results WHERE dataset=? AND channel=? AND seed=? AND size=?",
            (dataset, channel, seed, size))
        return {(m, p, i, float(s)) for m, p, i, s in cur}

    def done_snrs(self, scope: dict, method: str, provenance: str, image_id: str) -> set[float]:
        """SNRs already stored for one (method, provenance, image) of a sweep scope."""
        cur = self.conn.execute(
            "SELECT snr FROM results WHERE dataset=? AND channel=? AND seed=? AND size=? AND method=? AND provenance=? "
            "AND image_id=?", (scope["dataset"], scope["channel"], scope["seed"], scope["size"], method, provenance,
                              image_id))
        return {float(r[0]) for r in cur}

    def insert(self, row: Row) -> bool:
        """Insert one finished row; returns False if an identical key was already stored."""
        values = []
        for name in ROW_FIELDS:
            v = getattr(row, name)
            values.append(json.dumps(v, sort_keys=True) if name in _JSON_FIELDS else v)
        with self.conn:
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO results ({','.join(ROW_FIELDS)}) VALUES ({','.join('?' * len(ROW_FIELDS))})",
                values)
        return cur.rowcount == 1

    def update_metrics(self, row_id: int, metrics: dict[str, float], refs: dict[str, str]) -> None:
        """Add metric values to a stored row (a metric added to an existing sweep)."""
        with self.conn:
            self.conn.execute("UPDATE results SET metrics=?, metric_refs=? WHERE id=?",
                              (json.dumps(metrics, sort_keys=True), json.dumps(refs, sort_keys=True), row_id))

    def rows(self, where: str = "", params: Iterable = ()) -> list[Row]:
        cur = self.conn.execute(f"SELECT id,{','.join(ROW_FIELDS)} FROM results {where} ORDER BY id", tuple(params))
        out = []
        for rec in cur:
            d = dict(zip(("id",) + ROW_FIELDS, rec))
            for name in _JSON_FIELDS:
                d[name] = json.loads(d[name])
            out.append(Row(**d))
        return out

    def put_set_metric(self, key: dict[str, Any], name: str, value: float, lo: float | None,
                       hi: float | None, n: int) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO set_metrics VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (key["method"], key["provenance"], key["dataset"], key["snr"], key["channel"], key["seed"],
                 key["size"], name, value, lo, hi, n))

    def set_metrics(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT * FROM set_metrics ORDER BY method, provenance, snr, name")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur]

    # ---------------------------------------------------------------- claims (concurrent runs)

    def claim(self, unit: str) -> tuple[bool, int | None]:
        """Claim a unit of work for this process. Returns (claimed, other_pid): a unit claimed by a
        live process on this host is left to it; a stale claim (dead process) is taken over."""
        host, pid = socket.gethostname(), os.getpid()
        with self.conn:
            cur = self.conn.execute("INSERT OR IGNORE INTO claims VALUES (?,?,?,?)", (unit, host, pid, time.time()))
            if cur.rowcount == 1:
                return True, None
            h, p = self.conn.execute("SELECT host, pid FROM claims WHERE unit=?", (unit,)).fetchone()
            if (h, p) == (host, pid):
                return True, None
            if h == host and not _alive(p):
                self.conn.execute("UPDATE claims SET pid=?, started=? WHERE unit=?", (pid, time.time(), unit))
                return True, None
            return False, int(p)

    def claim_holder(self, unit: str) -> tuple[str, int] | None:
        rec = self.conn.execute("SELECT host, pid FROM claims WHERE unit=?", (unit,)).fetchone()
        return None if rec is None else (rec[0], int(rec[1]))

    def release(self, unit: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM claims WHERE unit=? AND pid=?", (unit, os.getpid()))


def _alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
