"""Reading a run's history.csv (written by Keras' CSVLogger): one list of floats per column."""

from __future__ import annotations

import csv
from pathlib import Path


def read_history(path: Path) -> dict[str, list[float]]:
    """Columns of history.csv (epoch, accuracy, loss, val_...); empty when the file is absent."""
    if not Path(path).is_file():
        return {}
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = list(rows[0]) if rows else []
    return {k: [float(r[k]) for r in rows if r.get(k) not in (None, "")] for k in keys}
