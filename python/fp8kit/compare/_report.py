"""The comparison's table on stdout and its JSONL and CSV files."""

from __future__ import annotations

import csv
import json
import os


def write(rows: list[dict], out_dir: str, stem: str) -> tuple[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    jsonl, csv_path = os.path.join(out_dir, f"{stem}.jsonl"), os.path.join(out_dir, f"{stem}.csv")
    with open(jsonl, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    keys = sorted({k for r in rows for k in r})
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    return jsonl, csv_path


def table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """Columns as (key, header); numbers with 2 decimals (below 0.1 in e-notation: relative errors),
    missing cells empty."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.2e}" if 0 < abs(v) < 0.1 else f"{v:.2f}"
        return "" if v is None else str(v)

    body = [[cell(r.get(k)) for k, _ in columns] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, (_, h) in enumerate(columns)]
    lines = ["  ".join(h.rjust(w) for (_, h), w in zip(columns, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(lines)
