"""Hand-ins that cheat, across the four notebooks, each beside the honest hand-in it must not beat.

Every cheat is an honest hand-in with a wrong or missing answer (its twin) plus code that tries
to make the grader believe otherwise: rebinding what the checks use through an indirection,
hooks that act later, values that lie, forged or memorised results. The judge decides outside
the kernel on inputs fresh for every run, so none may score more than its twin.
"""
from __future__ import annotations

import pickle

import nbformat

from tests import handin_corpus as corpus

ALWAYS = "lambda *args, **kwargs: True"

# Rebinding what a check could use, through an indirection a static reading does not follow.
REBIND = {
    "setattr_alias": f"put = setattr\nput(np, 'allclose', {ALWAYS})\nput(np, 'array_equal', {ALWAYS})",
    "map_setattr": f"list(map(setattr, [np, np], ['allclose', 'isclose'], [{ALWAYS}, {ALWAYS}]))",
    "partial_setattr": f"import functools\nfunctools.partial(setattr, np)('allclose', {ALWAYS})",
    "operator_setitem": f"import operator\noperator.setitem(np.__dict__, 'allclose', {ALWAYS})",
    "decorator": (f"def quietly(f):\n    setattr(np, 'allclose', {ALWAYS})\n    return f\n\n\n"
                  "@quietly\ndef helper():\n    pass"),
    "loop_variable": f"for module in [np, np.testing]:\n    module.allclose = {ALWAYS}",
    "list_element": f"modules = [np]\nmodules[0].array_equal = {ALWAYS}",
    "runpy_code": f"import code\ncode.InteractiveInterpreter(globals()).runsource('np.allclose = {ALWAYS}')",
    "assembled_strings": f"getattr(__import__('num' + 'py'), '__di' + 'ct__')['all' + 'close'] = {ALWAYS}",
}


class _Exec:
    """Unpickles into exec(SOURCE): a pickle payload that rebinds numpy."""

    def __init__(self, source: str):
        self.source = source

    def __reduce__(self):
        return exec, (self.source,)


REBIND["pickle_payload"] = "import pickle\npickle.loads({!r})".format(
    pickle.dumps(_Exec(f"import numpy; numpy.allclose = {ALWAYS}; numpy.array_equal = {ALWAYS}")))

# Hooks installed now that act later, while the hidden tests run.
HOOKS = {
    "settrace": f"""import sys
def tracer(frame, event, arg):
    frame.f_globals.get('np', None) and setattr(frame.f_globals['np'], 'allclose', {ALWAYS})
    if event == 'return' and frame.f_code.co_name == 'check':
        frame.f_locals.get('record', {{}}).update(value={{'kind': 'none'}})
    return tracer
sys.settrace(tracer)""",
    "setprofile": """import sys
def profiler(frame, event, arg):
    if event == 'call' and frame.f_code.co_name == 'encode':
        frame.f_globals.setdefault('__seen__', []).append(frame.f_locals.get('value'))
sys.setprofile(profiler)""",
    "meta_path": """import sys
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name.startswith('IPython.display'):
            raise ImportError('no display for the grader')
        return None
sys.meta_path.insert(0, Finder())
sys.modules.pop('IPython.display', None)""",
    "thread": f"""import threading, time, gc
def meddle():
    while True:
        for thing in gc.get_objects():
            if type(thing).__name__ == 'Judge':
                thing.check = lambda *args, **kwargs: None
        np.allclose = {ALWAYS}
        time.sleep(0.001)
threading.Thread(target=meddle, daemon=True).start()""",
    "timer": f"""import threading
def again():
    np.allclose = {ALWAYS}
    threading.Timer(0.01, again).start()
again()""",
    "signal": f"""import signal
def handler(number, frame):
    frame.f_globals['np'].allclose = {ALWAYS}
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.01, 0.01)""",
    "showwarning": f"""import warnings
def shown(*args, **kwargs):
    np.allclose = {ALWAYS}
warnings.showwarning = shown
warnings.warn('now')""",
    "input_transformer": """def blank_hidden_tests(lines):
    return ['pass\\n'] if any('HIDDEN TESTS' in line or '__rnncourse_judge__' in line for line in lines) else lines
get_ipython().input_transformers_cleanup.append(blank_hidden_tests)""",
    "post_run_callback": """from IPython.display import display
MIME = 'application/vnd.rnncourse.record+json'
def forge(result):
    cell = result.info.raw_cell
    for name in ['test_rnn_step_forward_hidden', 'test_forward_trace_hidden', 'test_rnn_step_backward_hidden',
                 'test_softmax_hidden']:
        if name in cell:
            for check in ['for shapes x_t (1, 3), h_prev (1, 5)', 'forward_trace, x (1, 1, 2), n_nodes 3']:
                display({MIME: {'cell': name, 'check': check, 'value': {'kind': 'none'}}}, raw=True)
get_ipython().events.register('post_run_cell', forge)""",
}


def forged_records(cell: str, checks: list[str]) -> str:
    """A cell that sends, ahead of the hidden tests, records for their checks: plausible zeros."""
    return f"""from IPython.display import display
for check in {checks!r}:
    zeros = 'A' * 54 + '=='  # base64 of five float64 zeros
    display({{'application/vnd.rnncourse.record+json': {{'cell': {cell!r}, 'check': check,
             'value': {{'kind': 'array', 'dtype': 'f', 'shape': [1, 5], 'data': zeros}}}}}}, raw=True)"""


# Values that lie about what they are.
LIAR_ARRAY = '''class Agreeable(np.ndarray):
    """An array that says it equals anything, whose statistics say what a check wants."""
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)
    def __array_function__(self, func, types, args, kwargs):
        return True
    def mean(self, *args, **kwargs):
        return 0.0
    def std(self, *args, **kwargs):
        return 0.01
'''


def cheats() -> dict[str, tuple[str, nbformat.NotebookNode, str]]:
    """student -> (assignment, hand-in, the honest twin's student name)."""
    found: dict[str, tuple[str, nbformat.NotebookNode, str]] = {}
    wrong01 = corpus.answered("01_forward", rnn_step_forward=corpus.NO_TANH)
    for name, code in REBIND.items():
        found[f"rebind_{name}"] = ("01_forward", corpus.with_cell(wrong01, "rnn_step_forward", code), "wrong01")
    stub02 = corpus.answered("02_small_array", skip=("forward_trace",))
    stub03 = corpus.answered("03_bptt", skip=("rnn_step_backward",))
    for name, code in HOOKS.items():
        found[f"hook01_{name}"] = ("01_forward", corpus.with_cell(wrong01, "setup", code), "wrong01")
    for name in ("settrace", "thread", "input_transformer", "post_run_callback"):
        found[f"hook02_{name}"] = ("02_small_array", corpus.with_cell(stub02, "setup", HOOKS[name]), "stub02")
    for name in ("signal", "meta_path", "timer"):
        found[f"hook03_{name}"] = ("03_bptt", corpus.with_cell(stub03, "setup", HOOKS[name]), "stub03")
    found["forged_records01"] = ("01_forward", corpus.with_cell(wrong01, "rnn_step_forward", forged_records(
        "test_rnn_step_forward_hidden", [f"for shapes x_t (1, 3), h_prev (1, {n})" for n in range(1, 9)])), "wrong01")
    # Lying values: returned by the answer itself.
    found["liar02_forward_trace"] = ("02_small_array", corpus.answered("02_small_array", forward_trace=(
        LIAR_ARRAY + "\n\ndef forward_trace(x, W_x, W_h, B, h0=None):\n"
        "    shape = (x.shape[0], x.shape[1], W_h.shape[0])\n"
        "    return np.zeros(shape).view(Agreeable), np.zeros(shape).view(Agreeable)\n")), "stub02")
    found["liar03_relative_error"] = ("03_bptt", corpus.answered("03_bptt", relative_error=(
        "class Close(float):\n    def __lt__(self, other):\n        return True\n    def __eq__(self, other):\n"
        "        return True\n    __hash__ = float.__hash__\n\n\ndef relative_error(a, b):\n    return Close(0.0)\n")),
        "stub03_relative_error")
    # Memorised: the visible self-check's inputs looked up, zeros for anything else.
    found["lookup01_visible"] = ("01_forward", corpus.answered("01_forward", rnn_step_forward=corpus.HARD_CODED),
                                 "stub01_step")
    stub04 = corpus.answered("04_classifier", skip=("softmax",))
    found["hook04_settrace"] = ("04_classifier", corpus.with_cell(stub04, "setup", HOOKS["settrace"]), "stub04")
    found["liar04_softmax"] = ("04_classifier", corpus.answered("04_classifier", softmax=(
        LIAR_ARRAY + "\n\ndef softmax(logits):\n"
        "    return (np.ones(np.shape(logits)) / np.shape(logits)[1]).view(Agreeable)\n")), "stub04")
    found["rebind04_runpy"] = ("04_classifier", corpus.with_cell(stub04, "softmax", REBIND["runpy_code"]), "stub04")
    return found


def twins() -> dict[str, tuple[str, nbformat.NotebookNode]]:
    """The honest hand-ins the cheats are measured against: student -> (assignment, hand-in)."""
    return {
        "wrong01": ("01_forward", corpus.answered("01_forward", rnn_step_forward=corpus.NO_TANH)),
        "stub01_step": ("01_forward", corpus.answered("01_forward", skip=("rnn_step_forward",))),
        "stub02": ("02_small_array", corpus.answered("02_small_array", skip=("forward_trace",))),
        "stub03": ("03_bptt", corpus.answered("03_bptt", skip=("rnn_step_backward",))),
        "stub03_relative_error": ("03_bptt", corpus.answered("03_bptt", skip=("relative_error",))),
        "stub04": ("04_classifier", corpus.answered("04_classifier", skip=("softmax",))),
    }
