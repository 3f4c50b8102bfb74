"""Query results as pandas DataFrames, for the pages and reports that read them as tables."""

from __future__ import annotations

from typing import Any

import pandas as pd
import psycopg


def frame(cur: psycopg.Cursor[Any]) -> pd.DataFrame:
    """Rows as a DataFrame of the database's own Python values.

    ``dtype=object`` keeps NULL as None (not NaN or NaT), so pages can test
    ``value is None`` and ``dict.get(code)`` works for an incident without a township.
    """
    rows = cur.fetchall()
    cols = [d.name for d in cur.description or ()]
    return pd.DataFrame(rows, columns=cols, dtype=object)
