"""Compare a hidden cell's records from the kernel with the reference's, check by check.

Records are plain data (judge_runtime.encode): a kernel can send any of them, so each is
read as untrusted input: its shape and type are checked before a number is decoded, and
whatever does not fit the expected result fails that check, with a message that names the
mistake when the result is one the reference run predicted.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

import nbformat
import numpy as np

# What stopped a cell, as GradingExecute marks it (execute.py): said in the report.
STOPPED = {"KernelDied": "the kernel died while this cell ran", "CellTimeoutError": "the cell ran past its time limit",
           "NotRun": "the cell was not run (the kernel stopped too often)"}


@dataclass
class Outcome:
    """How one hidden cell went: each check's name and problem (None when it passed)."""

    checks: list[tuple[str, str | None]] = field(default_factory=list)
    stopped: str | None = None  # why the cell ended early, if it did

    @property
    def fraction(self) -> float:
        return sum(problem is None for _, problem in self.checks) / len(self.checks) if self.checks else 0.0

    def summary(self) -> dict:
        return {"passed": sum(problem is None for _, problem in self.checks), "checks": len(self.checks),
                "stopped": self.stopped, "failed": [f"{name} {problem}" for name, problem in self.checks if problem]}

    def report(self, limit: int = 8) -> list[str]:
        """One line per kind of problem: the same mistake on several shapes is said once."""
        by_problem: dict[str, list[str]] = {}
        for name, found in self.checks:
            if found:
                by_problem.setdefault(found, []).append(name)
        lines = []
        for found, names in by_problem.items():
            more = f" (and in {len(names) - 1} more checks)" if len(names) > 1 else ""
            lines.append(f"- {names[0]} {found}{more}")
        return lines[:limit] + ([f"- ... and {len(lines) - limit} more problems"] if len(lines) > limit else [])


def decode_array(value: dict) -> np.ndarray | None:
    """The array a record holds, or None when the record is malformed."""
    try:
        shape = tuple(int(n) for n in value["shape"])
        if value.get("dtype") == "U":
            items = value["items"]
            if not (isinstance(items, list) and all(isinstance(item, str) for item in items)):
                return None
            return np.array(items, dtype=str).reshape(shape)
        data = base64.b64decode(value["data"], validate=True)
        if len(data) != 8 * int(np.prod(shape, dtype=np.int64)):
            return None
        return np.frombuffer(data, dtype=np.float64).reshape(shape)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None


def describe(value: dict) -> str:
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "array":
        return f"an array of shape {tuple(value.get('shape', ()))}"
    if kind == "object":
        return str(value.get("type", "an object"))[:120]
    return {"number": "a number", "none": "None", "sequence": "a tuple or list", "mapping": "a dict",
            "text": "a string"}.get(kind, "nothing readable")


def problem(want: dict, got: dict, rtol: float, atol: float) -> str | None:
    """What is wrong with GOT where WANT was expected (None: nothing)."""
    kind = want["kind"]
    if not isinstance(got, dict):
        return "no readable result"
    if got.get("kind") == "error" and kind != "error":
        if got.get("type") == "NotImplementedError":
            return "is not answered yet (raised NotImplementedError)"
        return f"raised {str(got.get('type'))[:80]}: {str(got.get('message'))[:300]}"
    if kind == "error":
        return None if got.get("kind") == "error" and got.get("type") == want["type"] else (
            f"should raise {want['type']} ({want['message'][:200]}), got {describe(got)}")
    if kind == "array":
        return array_problem(want, got, rtol, atol)
    if kind == "number":
        value = got.get("value") if got.get("kind") == "number" else None
        if got.get("kind") == "array" and tuple(got.get("shape", ())) in ((), (1,)):
            array = decode_array(got)
            value = None if array is None or array.dtype.kind == "U" else float(array.ravel()[0])
        if not isinstance(value, (int, float)):
            return f"should be a number, got {describe(got)}"
        if not np.isfinite(value):
            return "is NaN or infinity"
        return None if np.isclose(value, want["value"], rtol=rtol, atol=atol) else (
            f"is wrong: expected {want['value']:.6g}, got {value:.6g}")
    if kind in ("sequence", "mapping"):
        return container_problem(want, got, rtol, atol)
    if kind in ("none", "text"):
        return None if got == want else f"should be {describe(want)}{' ' + repr(want['value']) if kind == 'text' else ''}, got {describe(got)}"  # noqa: E501
    return f"cannot be checked ({kind})"


def array_problem(want: dict, got: dict, rtol: float, atol: float) -> str | None:
    from rnncourse.notebook_code import shape_hint

    if got.get("kind") != "array":
        return f"should be a NumPy array (np.ndarray), got {describe(got)}"
    array, expected = decode_array(got), decode_array(want)
    if array is None:
        return "is not a readable array"
    if array.shape != expected.shape:
        return f"should have shape {expected.shape}, got {array.shape}" + shape_hint(array.shape, expected.shape)
    if expected.dtype.kind == "U" or array.dtype.kind == "U":
        return None if array.dtype.kind == expected.dtype.kind and np.array_equal(array, expected) else (
            f"holds the wrong labels: expected {expected.ravel()[:5].tolist()}..., got {array.ravel()[:5].tolist()}...")
    if not np.all(np.isfinite(array)):
        return "holds NaN or infinity"
    if np.allclose(array, expected, rtol=rtol, atol=atol):
        return None
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(array - expected)), array.shape))
    return f"is wrong: at index {worst} expected {expected[worst]:.6f}, got {array[worst]:.6f}"


def container_problem(want: dict, got: dict, rtol: float, atol: float) -> str | None:
    if got.get("kind") != want["kind"]:
        return f"should be {describe(want)}, got {describe(got)}"
    if want["kind"] == "sequence":
        if got.get("length") != want["length"] or not isinstance(got.get("items"), list):
            return f"should hold {want['length']} items, got {got.get('length')}"
        pairs = [(f"item {i}", w, g) for i, (w, g) in enumerate(zip(want["items"], got["items"], strict=True))]
    else:
        items = got.get("items")
        if not isinstance(items, dict) or set(items) != set(want["items"]):
            keys = sorted(items) if isinstance(items, dict) else "none"
            return f"should have the keys {sorted(want['items'])}, got {keys}"
        pairs = [(repr(key), w, items[key]) for key, w in want["items"].items()]
    for label, w, g in pairs:
        found = problem(w, g, rtol, atol)
        if found:
            return f"{label} {found}"
    return None


def check_problem(reference: dict, got: dict | None) -> str | None:
    """Why GOT, the kernel's record for one of the reference's checks (None: none came), fails
    it (None: it passes)."""
    if got is None:
        return "not checked: the cell stopped before it"
    rtol, atol = reference["rtol"], reference["atol"]
    found = problem(reference["value"], got.get("value"), rtol, atol)
    if found:
        for wrong, message in reference["mistakes"]:
            if problem(wrong, got.get("value"), rtol, atol) is None:
                return f"is wrong: {message}"
    return found


def decide(reference: list[dict], got: list[dict], outputs: list, judged: bool) -> Outcome:
    """The outcome of a hidden cell: each reference check against the kernel's records."""
    outcome = Outcome()
    for output in outputs:
        if output.get("output_type") == "error" and output.get("ename") in STOPPED:
            outcome.stopped = STOPPED[output["ename"]]
    errors = [r for r in got if r.get("check") is None]
    if errors and outcome.stopped is None:
        value = errors[0].get("value") if isinstance(errors[0].get("value"), dict) else {}
        outcome.stopped = f"the cell raised {str(value.get('type'))[:80]}: {str(value.get('message'))[:200]}"
    if not judged:
        outcome.checks.append(("hidden tests", "the grader chose no seed for them"))
    # Two checks may share a name (a random shape can repeat a fixed one): the k-th record of a
    # name answers the k-th check of that name. More records than checks cannot be trusted.
    wanted: dict[str, int] = {}
    for record in reference:
        wanted[record["check"]] = wanted.get(record["check"], 0) + 1
    seen: dict[str, int] = {}
    for record in reference:
        name = record["check"]
        mine = [r for r in got if r.get("check") == name]
        index = seen.get(name, 0)
        seen[name] = index + 1
        if len(mine) > wanted[name]:
            outcome.checks.append((name, f"recorded {len(mine)} times for {wanted[name]} check(s), so it cannot "
                                         "be trusted"))
        else:
            outcome.checks.append((name, check_problem(record, mine[index] if index < len(mine) else None)))
    return outcome


def outputs(outcome: Outcome, points: float) -> list:
    """The cell's outputs after judging: the report, and the score when it is not full."""
    passed, total = sum(p is None for _, p in outcome.checks), len(outcome.checks)
    score = round(points * outcome.fraction, 2)
    lines = [f"Hidden tests: {passed} of {total} checks passed ({score:g} of {points:g} points)."]
    if outcome.stopped:
        lines.append(f"The cell stopped early: {outcome.stopped}.")
    lines += outcome.report()
    result = [nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n")]
    if score < points:
        result.append(nbformat.v4.new_output("execute_result", data={"text/plain": f"{score:g}"}, execution_count=None))
    return result
