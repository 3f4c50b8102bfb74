"""``python -m cityops.healthcheck http://127.0.0.1:9101/readyz``: a container's or a unit's health check.

Asks the URL once and prints the reply (status and body); exits 0 when the reply is HTTP 200, 1 for
anything else: another status (``/readyz`` answers 503 while a dependency is unreachable), no answer
in time, or nothing listening. Standard library only, so it runs in any image that runs cityops, and
it ignores ``http_proxy``: a probe of this process never goes through a proxy.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

_BODY_LIMIT = 2000  # characters of the reply printed: a readiness answer is a few hundred


@dataclass(frozen=True, slots=True)
class Reply:
    status: int | None  # None: no HTTP answer at all
    text: str  # the body, or why there was no answer

    @property
    def ok(self) -> bool:
        return self.status == 200


def ask(url: str, timeout: float = 5.0) -> Reply:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return Reply(resp.status, resp.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:  # an answer, just not 200
        with exc:
            return Reply(exc.code, exc.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError, ValueError) as exc:  # refused, timed out, a malformed URL
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Reply(None, f"no answer from {url}: {reason}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cityops.healthcheck",
                                     description="exit 0 when the URL answers HTTP 200, 1 otherwise")
    parser.add_argument("url", help="e.g. http://127.0.0.1:9101/readyz")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    reply = ask(args.url, args.timeout)
    shown = reply.text[:_BODY_LIMIT]
    print(shown if reply.status is None else f"HTTP {reply.status} {shown}".rstrip(), flush=True)
    return 0 if reply.ok else 1


if __name__ == "__main__":
    sys.exit(main())
