"""Progress lines for long imports: one line per step, with a text bar.

Plain lines rather than a redrawn bar: they read the same in a terminal, a log file
and a CI transcript (tqdm is not a dependency of this project).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from layers.report import Lang, level_name

PHASES: dict[str, dict[Lang, str]] = {
    "read": {"zh": "读取并转换坐标", "en": "read and reproject"},
    "attributes": {"zh": "校验代码与名称", "en": "check codes and names"},
    "geometry": {"zh": "校验几何", "en": "check geometry"},
    "overlaps": {"zh": "检查重叠", "en": "check overlaps"},
    "containment": {"zh": "检查缝隙与越界", "en": "check gaps and containment"},
    "write": {"zh": "写入数据库", "en": "write to the database"},
}
BAR_WIDTH = 20


class Progress:
    """``step(phase, level)`` advances by one and prints ``[####------]  4/10  40%  label``."""

    def __init__(self, total: int, lang: Lang, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.lang = lang
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.monotonic()

    def _line(self, label: str) -> None:
        frac = min(self.done / self.total, 1.0)
        filled = round(frac * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.started
        print(f"[{bar}] {self.done:>3}/{self.total} {frac:4.0%}  {label}  ({elapsed:.1f} s)",
              file=self.stream, flush=True)

    def step(self, phase: str, level: str = "", detail: str = "") -> None:
        self.done += 1
        label = PHASES[phase][self.lang] if phase in PHASES else phase
        where = level_name(level, self.lang)
        self._line(" ".join(part for part in (where, label, detail) if part))

    def rows(self, written: int, total: int) -> None:
        """Within the write step: rows written so far (not a step of its own)."""
        unit = "行" if self.lang == "zh" else "rows"
        self._line(f"{PHASES['write'][self.lang]} {written:,}/{total:,} {unit}")
