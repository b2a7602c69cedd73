"""How calls that fail with UNAVAILABLE are retried."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of a call that failed with UNAVAILABLE (Herald, or the network to it, is down for
    a moment), with exponential backoff: at most `max_attempts` attempts in all, the pause
    before retry n drawn between half and all of `initial_backoff * multiplier ** (n - 1)`,
    capped at `max_backoff` seconds, and never past the call's deadline. No other error is
    retried. `RetryPolicy(max_attempts=1)` retries nothing."""

    max_attempts: int = 5
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff <= 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("backoffs must be positive, max_backoff at least initial_backoff")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")

    @classmethod
    def of(cls, retries: int | RetryPolicy) -> RetryPolicy:
        """A policy as given, or one of `retries` retries (so retries + 1 attempts)."""
        if isinstance(retries, RetryPolicy):
            return retries
        if retries < 0:
            raise ValueError("retries must not be negative")
        return cls(max_attempts=retries + 1)

    def delay(self, retry: int) -> float:
        """The pause in seconds before retry number `retry` (1 for the first)."""
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier ** (retry - 1))
        return ceiling * random.uniform(0.5, 1.0)
