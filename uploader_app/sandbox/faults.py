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
    {
        "status",
        "rate_limit",
        "reset",
        "slow",
        "truncated",
        "non_json",
        "lost_answer",
        "s3_error",
        "rate_limit_bare",
        "usage_limit",
    }
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
    code: str = "SlowDown"  # the S3 error code, for "s3_error" (a chunk PUT's storage answer)
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
        unknown = set(plan) - {"seed", "rules"}
        if unknown:
            raise ValueError(f"the fault plan has unknown keys: {', '.join(sorted(unknown))}")
        seed = plan.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, str))):
            raise ValueError("the fault plan's 'seed' must be a whole number or a string")
        rules = plan.get("rules") or []
        if not isinstance(rules, list):
            raise ValueError("the fault plan's 'rules' must be a list of rule objects")
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._rules = [_rule(raw, n) for n, raw in enumerate(rules, 1)]

    @property
    def fired(self) -> int:
        """How many requests the plan broke so far (the soak run reports it)."""
        with self._lock:
            return sum(rule.fired for rule in self._rules)

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
    """A plan from ``--faults``: inline JSON (text starting with ``{`` or ``[``), or the path
    of a JSON file. Raises OSError or ValueError (naming the rule and key) when unusable."""
    stripped = text.strip()
    inline = stripped.startswith(("{", "["))
    source = stripped if inline else Path(text).read_text(encoding="utf-8")
    plan = json.loads(source)
    if not isinstance(plan, dict):
        raise ValueError("a fault plan is a JSON object with 'rules'")
    FaultPlan(plan)  # validate now, so a typo fails at start-up
    return plan


# key -> (accepted JSON types, what to say when it is something else)
_NUMBER = (int, float)
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "method": ((str,), 'a string such as "POST"'),
    "path": ((str,), 'a string (an fnmatch glob such as "/v1.3/tasks/*")'),
    "fault": ((str,), "a string"),
    "status": ((int,), "a whole number (an HTTP status)"),
    "times": ((int,), "a whole number"),
    "skip": ((int,), "a whole number"),
    "probability": (_NUMBER, "a number between 0 and 1"),
    "retry_after": ((int,), "a whole number of seconds"),
    "delay": (_NUMBER, "a number of seconds"),
    "code": ((str,), 'an S3 error code such as "SlowDown"'),
}


def _rule(raw: object, number: int) -> FaultRule:
    if not isinstance(raw, dict):
        raise ValueError(f"fault rule {number} is not an object")
    unknown = set(raw) - set(_TYPES)
    if unknown:
        raise ValueError(f"fault rule {number} has unknown keys: {', '.join(sorted(unknown))}")
    for key, value in raw.items():
        types, wanted = _TYPES[key]
        # bool is an int in Python, but true/false in a plan is a mistake
        if isinstance(value, bool) or not isinstance(value, types):
            raise ValueError(f"fault rule {number}: '{key}' must be {wanted}, not {value!r}")
    fault = raw.get("fault")
    if fault not in FAULTS:
        raise ValueError(f"fault rule {number}: 'fault' must be one of {', '.join(sorted(FAULTS))}")
    rule = FaultRule(
        fault=fault,
        method=raw.get("method"),
        path=raw.get("path"),
        times=raw.get("times"),
        skip=raw.get("skip", 0),
        probability=float(raw.get("probability", 1.0)),
        status=raw.get("status"),
        retry_after=raw.get("retry_after", 1),
        delay=float(raw.get("delay", 1.0)),
        code=raw.get("code", "SlowDown"),
    )
    if fault == "status" and (rule.status is None or not 500 <= rule.status <= 599):
        raise ValueError(f"fault rule {number}: 'status' needs a 5xx 'status'")
    if rule.status is not None and not 200 <= rule.status <= 599:
        raise ValueError(f"fault rule {number}: 'status' must be an HTTP status from 200 to 599")
    for key in ("times", "skip", "retry_after", "delay"):
        value = getattr(rule, key)
        if value is not None and value < 0:
            raise ValueError(f"fault rule {number}: '{key}' must be 0 or more")
    if not 0.0 <= rule.probability <= 1.0:
        raise ValueError(f"fault rule {number}: 'probability' must be between 0 and 1")
    return rule
