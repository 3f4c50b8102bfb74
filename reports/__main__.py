"""``python -m reports quality --month 2026-11 [--lang en] [--out file.docx]``: write a monthly report.

The database is the one every cityops process uses (``CITYOPS_DATABASE_URL`` or the
embedded server); ``--dsn`` overrides it. Without ``--month``, last month; without
``--out``, the report's own file name in the current folder.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cityops import settings
from i18n.labels import as_lang
from reports.month import Month
from reports.quality import quality_report


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser(conf: settings.Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reports", description="cityops reports")
    sub = parser.add_subparsers(dest="report", required=True)
    quality = sub.add_parser("quality", help="数据质量月报: the monthly data-quality report (.docx)")
    quality.add_argument("--month", type=_month, help="YYYY-MM, Asia/Shanghai (default: last month)")
    quality.add_argument("--lang", choices=("zh", "en"), default=as_lang(conf.language),
                         help="language of the report (default: CITYOPS_LANG)")
    quality.add_argument("--out", type=Path, help="file to write (default: the report's name, here)")
    quality.add_argument("--dsn", default=conf.dsn("dashboard"),
                         help="PostgreSQL URL (default: CITYOPS_DASHBOARD_DATABASE_URL: it reads what the pages read)")
    return parser


def main(argv: list[str] | None = None, now: datetime | None = None) -> int:
    conf = settings.load()
    args = _parser(conf).parse_args(argv)
    now = now or datetime.now(UTC)
    month = args.month or Month.of(now).previous()
    try:
        with psycopg.connect(args.dsn) as conn:
            content, name = quality_report(conn, month, now, args.lang)
    except ValueError as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 2
    out = args.out or Path(name)
    out.write_bytes(content)
    print(f"{out} ({len(content):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
