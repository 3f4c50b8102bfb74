"""Generated passwords of the embedded servers' accounts, kept in one file of the run folder.

Created on first use, readable by its owner only (0600), never committed (``.run/`` is ignored).
Production passes its own secrets in the environment instead and never reads this file.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

PG_CREDENTIALS = "pg-credentials.json"  # beside the embedded cluster's folder


class DbCredentials:
    """role → password, generated once per role and kept in ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{self.path}: expected a JSON object of role → password")
        return {str(k): v for k, v in data.items()}

    def password(self, role: str) -> str:
        with self._lock:
            known = self._read()
            if role not in known:
                known[role] = secrets.token_urlsafe(24)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(known, f, indent=1, sort_keys=True)
                os.replace(tmp, self.path)  # whole or not at all: a reader never sees half a file
            return known[role]
