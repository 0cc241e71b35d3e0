"""Reading a results store: ``azsim.results.load(STORE)`` returns tidy pandas frames.

The store is a DuckDB file; it can also be opened directly (``duckdb STORE.duckdb``) and queried
with SQL: tables ``sweeps``, ``points``, ``runs``, ``metrics``, ``point_summary``.
"""

from .store import Store, StoreError, describe, export, load

__all__ = ["load", "describe", "export", "Store", "StoreError"]
