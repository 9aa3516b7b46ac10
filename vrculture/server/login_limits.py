"""Failed curator logins, limited per client address: a token bucket of guesses.

Each address may fail `burst` times in a row, then one more time every 1/`rate` seconds; while
its bucket is empty, every admin request from it is answered 429 with Retry-After before the
token is even checked. A correct token never uses up the bucket.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class FailedLogins:
    def __init__(self, burst: float = 10.0, rate: float = 0.1,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        self.burst, self.rate, self.clock, self.max_clients = burst, rate, clock, max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, stamp)

    def _tokens(self, client: str, now: float) -> float:
        tokens, stamp = self._buckets.get(client, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None if it may try now."""
        now = self.clock()
        tokens = self._tokens(client, now)
        if tokens >= 1.0:
            return None
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def failed(self, client: str) -> None:
        now = self.clock()
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._forget_recovered(now)
        self._buckets[client] = (max(0.0, self._tokens(client, now) - 1.0), now)

    def _forget_recovered(self, now: float) -> None:
        """Bounded memory under a flood of addresses: drop full buckets, then the oldest."""
        for client in [c for c in self._buckets if self._tokens(c, now) >= self.burst]:
            del self._buckets[client]
        while len(self._buckets) >= self.max_clients:
            del self._buckets[next(iter(self._buckets))]
