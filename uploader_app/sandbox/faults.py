"""Fault injection: a JSON plan of rules that break chosen requests in chosen ways.

Plan (the schema is a contract with the client's tests; see docs/sandbox.md)::

    {"seed": 1, "rules": [{"method": "POST", "path": "/v1.3/tasks", "fault": "status",
                           "status": 503, "times": 2, "skip": 0, "probability": 1.0}]}

Rules are tried in order; the first one that matches and fires decides the request's fate.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FAULTS = frozenset(
    {"status", "rate_limit", "reset", "slow", "truncated", "non_json", "lost_answer"}
)
_KEYS = frozenset(
    {"method", "path", "fault", "status", "times", "skip", "probability", "retry_after", "delay"}
)


@dataclass
class FaultRule:
    fault: str
    method: str | None = None
    path: str | None = None  # fnmatch glob on the path without the query
    times: int | None = None  # fire this many times, then the rule is spent (None: forever)
    skip: int = 0  # let this many matching requests through first
    probability: float = 1.0
    status: int | None = None  # for "status" (5xx) and "non_json"
    retry_after: int = 1  # seconds, for "rate_limit"
    delay: float = 1.0  # seconds, for "slow"
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or fnmatch.fnmatchcase(path, self.path)


class FaultPlan:
    """Thread-safe: concurrent requests each see a consistent rule count."""

    def __init__(self, plan: dict[str, Any] | None = None) -> None:
        plan = plan or {}
        if not isinstance(plan, dict):
            raise ValueError("a fault plan is a JSON object with 'rules'")
        self._lock = threading.Lock()
        self._rng = random.Random(plan.get("seed"))
        self._rules = [_rule(raw, n) for n, raw in enumerate(plan.get("rules") or [], 1)]

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request, if any (counts it as fired)."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                logger.info("fault %s on %s %s", rule.fault, method, path)
                return rule
        return None


def load_plan(text: str) -> dict[str, Any]:
    """A plan from ``--faults``: inline JSON, or the path of a JSON file."""
    stripped = text.strip()
    source = stripped if stripped.startswith("{") else Path(text).read_text(encoding="utf-8")
    plan = json.loads(source)
    if not isinstance(plan, dict):
        raise ValueError("a fault plan is a JSON object with 'rules'")
    FaultPlan(plan)  # validate now, so a typo fails at start-up
    return plan


def _rule(raw: object, number: int) -> FaultRule:
    if not isinstance(raw, dict):
        raise ValueError(f"fault rule {number} is not an object")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ValueError(f"fault rule {number} has unknown keys: {', '.join(sorted(unknown))}")
    fault = raw.get("fault")
    if fault not in FAULTS:
        raise ValueError(f"fault rule {number}: 'fault' must be one of {', '.join(sorted(FAULTS))}")
    rule = FaultRule(
        fault=str(fault),
        method=raw.get("method"),
        path=raw.get("path"),
        times=raw.get("times"),
        skip=int(raw.get("skip", 0)),
        probability=float(raw.get("probability", 1.0)),
        status=raw.get("status"),
        retry_after=int(raw.get("retry_after", 1)),
        delay=float(raw.get("delay", 1.0)),
    )
    if fault == "status" and (rule.status is None or not 500 <= rule.status <= 599):
        raise ValueError(f"fault rule {number}: 'status' needs a 5xx 'status'")
    if rule.times is not None and rule.times < 0:
        raise ValueError(f"fault rule {number}: 'times' must be 0 or more")
    if not 0.0 <= rule.probability <= 1.0:
        raise ValueError(f"fault rule {number}: 'probability' must be between 0 and 1")
    return rule
