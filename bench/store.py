"""SQLite results store.

One row per (method, dataset, image, SNR, channel, seed, size), written in its own
transaction after the received image is safely on disk, so a run killed at any point
loses at most the row in flight and a rerun neither duplicates nor redoes finished rows.
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bench.errors import UserError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY,
    method TEXT NOT NULL,
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
    info TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE (method, dataset, image_id, snr, channel, seed, size)
);
CREATE TABLE IF NOT EXISTS set_metrics (
    method TEXT NOT NULL,
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
    PRIMARY KEY (method, dataset, snr, channel, seed, size, name)
);
"""

ROW_FIELDS = (
    "method", "dataset", "image_id", "snr", "channel", "seed", "size", "task", "received_path",
    "channel_uses", "cbr_paper", "cbr_complex", "bpp", "decode_failures", "text_sent",
    "text_received", "times", "metrics", "info", "created",
)
_JSON_FIELDS = ("times", "metrics", "info")


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


class ResultStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise UserError(f"cannot open results database {self.path}: {exc}; "
                            "point --out at a fresh directory or remove the file") from None
        except OSError as exc:
            raise UserError(f"cannot create results database {self.path}: {exc.strerror}; "
                            "choose a writable --out directory") from None
        if tables and version != SCHEMA_VERSION:
            self.conn.close()
            raise UserError(
                f"results database {self.path} has schema version {version}, this bench writes version "
                f"{SCHEMA_VERSION}; use another --out directory (or move the old database away)")
        with self.conn:
            self.conn.executescript(_SCHEMA)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        self.conn.close()

    def done_keys(self, dataset: str, channel: str, seed: int, size: int) -> set[tuple[str, str, float]]:
        cur = self.conn.execute(
            "SELECT method, image_id, snr FROM results WHERE dataset=? AND channel=? AND seed=? AND size=?",
            (dataset, channel, seed, size))
        return {(m, i, float(s)) for m, i, s in cur}

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

    def rows(self, where: str = "", params: Iterable = ()) -> list[Row]:
        cur = self.conn.execute(f"SELECT {','.join(ROW_FIELDS)} FROM results {where} ORDER BY id", tuple(params))
        out = []
        for rec in cur:
            d = dict(zip(ROW_FIELDS, rec))
            for name in _JSON_FIELDS:
                d[name] = json.loads(d[name])
            out.append(Row(**d))
        return out

    def put_set_metric(self, key: dict[str, Any], name: str, value: float, lo: float | None,
                       hi: float | None, n: int) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO set_metrics VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (key["method"], key["dataset"], key["snr"], key["channel"], key["seed"], key["size"],
                 name, value, lo, hi, n))

    def set_metrics(self) -> list[dict[str, Any]]:
        cur = self.conn.execute("SELECT * FROM set_metrics ORDER BY method, snr, name")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur]
