"""What a hidden test calls, as `judge`: it runs the student's code and hands out plain data.

The kernel computes, the judge decides. At grading time this module's source is copied
into every hidden test cell (so it needs nothing but the standard library and NumPy, and
the grader's own package stays out of the kernel's reach); there `judge.check(name, compute)`
runs COMPUTE, turns its result into numbers, arrays of numbers and text, and sends that out
of the kernel as a display record. Outside the kernel the judge runs the same hidden code
with the reference answers (`Judge(..., emit=None)` collects the records instead) and
compares the two. Nothing a student's code does inside the kernel can make a check pass
but producing the reference's numbers for inputs drawn from a seed chosen per run.

Hidden test code, in a master between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`:

    for batch_size, n_nodes in [(1, 3), (4, 2)]:
        x = judge.rng.standard_normal((batch_size, 2))
        judge.check(f"h_t for batch {batch_size}", lambda: rnn_step_forward(x, ...),
                    mistakes=lambda: [(np.tanh(x @ ...), "the bias B is not added")])
    with judge.using("rnn_step_forward"):          # an earlier exercise: the reference's
        judge.check("forward", lambda: layer.forward(x))

Rules that keep both runs in step: draw every input from judge.rng, outside the lambdas;
let nothing but a check or judge.build call the student's code; and never branch on a result.
"""
import base64
import contextlib
import copy

import numpy as np

MIME = "application/vnd.rnncourse.record+json"
MAX_ELEMENTS = 200_000  # of one array in a record
MAX_ITEMS = 64  # of one tuple, list or dict
MAX_TEXT = 400  # characters of a text or an error message


def encode(value, depth=0):
    """VALUE as plain data: only its numbers, shapes and type names cross the kernel's edge."""
    if depth > 4:
        return {"kind": "object", "type": "too deeply nested"}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"kind": "number", "value": float(bool(value))}
    if isinstance(value, (int, float, np.integer, np.floating)) and type(value).__module__ in ("builtins", "numpy"):
        return {"kind": "number", "value": float(value)}
    if isinstance(value, str):
        return {"kind": "text", "value": value[:MAX_TEXT]}
    if type(value) is np.ndarray:
        return encode_array(value)
    if type(value) in (tuple, list):
        return {"kind": "sequence", "items": [encode(item, depth + 1) for item in value[:MAX_ITEMS]],
                "length": len(value)}
    if type(value) is dict and all(type(key) is str for key in value):
        items = list(value.items())[:MAX_ITEMS]
        return {"kind": "mapping", "items": {key: encode(item, depth + 1) for key, item in items}}
    return {"kind": "object", "type": type(value).__name__[:MAX_TEXT]}


def encode_array(array):
    if array.size > MAX_ELEMENTS:
        return {"kind": "object", "type": f"ndarray of {array.size} elements (too large)"}
    shape = [int(n) for n in array.shape]
    if array.dtype.kind in "biuf":
        data = np.ascontiguousarray(array, dtype=np.float64).tobytes()
        return {"kind": "array", "dtype": array.dtype.kind, "shape": shape, "data": base64.b64encode(data).decode()}
    if array.dtype.kind == "U":
        return {"kind": "array", "dtype": "U", "shape": shape,
                "items": [str(item)[:MAX_TEXT] for item in array.ravel().tolist()]}
    return {"kind": "object", "type": f"ndarray of dtype {array.dtype}"}


def error_record(error):
    return {"kind": "error", "type": type(error).__name__, "message": str(error)[:MAX_TEXT]}


def display(record):
    """Send RECORD out of the kernel: a display output of the running cell."""
    from IPython.display import display as show

    show({MIME: record}, raw=True)


class Judge:
    """The `judge` of one hidden test cell. emit=None: the reference run, collecting records."""

    def __init__(self, cell, seed, emit=None, namespace=None, references=()):
        self.cell = cell
        self.rng = np.random.default_rng(seed)
        self.records = []
        self._emit = emit
        self._namespace = namespace
        self._references = {}
        if emit is not None and references:
            private = dict(namespace)
            for source in references:  # the reference answers of earlier exercises, in notebook order
                exec(source, private)
            self._references = private

    @property
    def is_reference(self):
        return self._emit is None

    def check(self, name, compute, mistakes=None, rtol=1e-6, atol=1e-9):
        """Run COMPUTE (no arguments) and record its result under NAME. Only the reference run
        evaluates MISTAKES: (wrong result, what the mistake is) pairs that name a wrong answer."""
        try:
            value = encode(compute())
        except (Exception, SystemExit) as error:  # the student's code raised: that is the result
            value = error_record(error)
        record = {"cell": self.cell, "check": name, "value": value}
        if self.is_reference:
            record["rtol"], record["atol"] = rtol, atol
            record["mistakes"] = [[encode(wrong), message] for wrong, message in (mistakes() if mistakes else [])]
            self.records.append(record)
        else:
            self._emit(record)

    @contextlib.contextmanager
    def using(self, *names):
        """In the kernel: NAMES (earlier exercises: `f` or `Class.method`) are the reference's
        within the block, so a mistake there costs only its own exercise."""
        saved = []
        try:
            for name in names if not self.is_reference else ():
                owner_name, _, attribute = name.partition(".")
                if attribute:
                    owner = self._namespace[owner_name]
                    saved.append((owner, attribute, owner.__dict__.get(attribute)))
                    setattr(owner, attribute, self._references[owner_name].__dict__[attribute])
                else:
                    saved.append((None, name, self._namespace.get(name)))
                    self._namespace[name] = self._references[name]
            yield
        finally:
            for owner, attribute, old in reversed(saved):
                if owner is None:
                    self._namespace[attribute] = old
                else:
                    setattr(owner, attribute, old)

    def build(self, cls, *args, **attributes):
        """An instance of CLS made by CLS(*ARGS) (or without its __init__ when that fails:
        a wrong constructor costs only its own exercise), then given ATTRIBUTES (copies)."""
        try:
            instance = cls(*args)
        except (Exception, SystemExit):
            instance = cls.__new__(cls)
        for name, value in attributes.items():
            setattr(instance, name, copy.deepcopy(value))
        return instance

    def run(self, body):
        """Run the cell's hidden code BODY(judge); an error outside every check ends the cell."""
        try:
            body(self)
        except (Exception, SystemExit) as error:
            if self.is_reference:
                raise
            self._emit({"cell": self.cell, "check": None, "value": error_record(error)})
