"""Train the course's reference classifier and the same model in PyTorch, side by side.

Both run on the CPU in float64, from the same initial weights, on the same
mini-batches in the same order, for the same epochs: the reference's
ScratchSimpleRNNClassifier (from solutions/04_classifier.ipynb, the notebook's
own code) and torch.nn.RNN + torch.nn.Linear trained with torch.optim.SGD.
Prints the training times, their ratio, both test accuracies and how far the
final weights are apart.

    .venv/bin/python -m benchmarks.torch_benchmark [--repeats N] [--torch-threads N]

Timings depend on the machine and on what else runs on it; the best of a few
runs is printed, next to every run.

Needs PyTorch, which the course itself does not require (`pip install torch`).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import time
from pathlib import Path

import nbformat
import numpy as np
from threadpoolctl import threadpool_info

try:
    import torch
except ModuleNotFoundError:
    raise SystemExit("This benchmark needs PyTorch: pip install torch") from None

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "04_classifier.ipynb"
# The cells of the reference solution that define the model and split the data.
REFERENCE_CELLS = ("setup", "simple_rnn", "softmax", "cross_entropy", "classifier_base", "classifier", "data")
# The settings of the notebook's training cell.
SETTINGS = dict(n_nodes=64, n_epochs=30, batch_size=32, learning_rate=0.2, sigma=0.1, random_state=0)


def reference() -> dict:
    cells = {
        cell.metadata.get("nbgrader", {}).get("grade_id"): cell.source
        for cell in nbformat.read(SOLUTION, as_version=4).cells
    }
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the data cell prints the split
        for name in REFERENCE_CELLS:
            exec(compile(cells[name], f"04_classifier:{name}", "exec"), namespace)
    return namespace


class TorchClassifier(torch.nn.Module):
    """torch.nn.RNN (tanh, one layer, batch first) and a dense layer, holding CLF's weights."""

    def __init__(self, clf):
        super().__init__()
        n_features, n_nodes = clf.rnn_.W_x.shape
        self.rnn = torch.nn.RNN(n_features, n_nodes, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
        self.head = torch.nn.Linear(n_nodes, len(clf.classes_), dtype=torch.float64)
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(torch.from_numpy(clf.rnn_.W_x.T))
            self.rnn.weight_hh_l0.copy_(torch.from_numpy(clf.rnn_.W_h.T))
            self.rnn.bias_ih_l0.copy_(torch.from_numpy(clf.rnn_.B))
            self.rnn.bias_hh_l0.zero_()
            self.head.weight.copy_(torch.from_numpy(clf.W_y_.T))
            self.head.bias.copy_(torch.from_numpy(clf.B_y_))
        self.rnn.bias_hh_l0.requires_grad_(False)  # the course's layer has a single bias

    def forward(self, x):
        _, last = self.rnn(x)
        return self.head(last[0])

    def course_layout(self) -> dict[str, np.ndarray]:
        p = {name: t.detach().numpy() for name, t in self.named_parameters()}
        return {"W_x": p["rnn.weight_ih_l0"].T, "W_h": p["rnn.weight_hh_l0"].T, "B": p["rnn.bias_ih_l0"],
                "W_y": p["head.weight"].T, "B_y": p["head.bias"]}


def train_torch(ref: dict) -> tuple[TorchClassifier, float]:
    """The PyTorch model, trained as the reference's fit trains; returns it and the seconds it took."""
    probe = ref["ScratchSimpleRNNClassifier"](**SETTINGS)
    X, y_index, _, _, rng = probe._start_fit(ref["X_train"], ref["y_train"])  # the weights fit starts from
    model = TorchClassifier(probe)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=SETTINGS["learning_rate"])
    X, y_index = torch.from_numpy(X), torch.from_numpy(y_index)
    batch_size = SETTINGS["batch_size"]
    start = time.perf_counter()
    for _ in range(SETTINGS["n_epochs"]):
        order = torch.from_numpy(rng.permutation(len(X)))  # the same draws as the reference's fit
        for first in range(0, len(X), batch_size):
            batch = order[first:first + batch_size]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(X[batch]), y_index[batch]).backward()
            optimizer.step()
    return model, time.perf_counter() - start


def train_reference(ref: dict):
    clf = ref["ScratchSimpleRNNClassifier"](**SETTINGS)
    start = time.perf_counter()
    clf.fit(ref["X_train"], ref["y_train"])
    return clf, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the fastest counts (default 3)")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="PyTorch's CPU threads; default 1, like the reference's one BLAS thread; "
                        "0: PyTorch's default")
    args = parser.parse_args()
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)

    ref = reference()
    # The notebook's setup cell limits BLAS to one thread; the reference runs as it does in the notebook.
    blas = sorted({f"{i['internal_api']} {i['num_threads']} thread(s)"
                   for i in threadpool_info() if i["user_api"] == "blas"})
    print(f"data: {len(ref['X_train'])} training digits, {len(ref['X_test'])} test digits, 8 steps of 8 features")
    print(f"model: {SETTINGS}")
    print(f"NumPy {np.__version__} ({', '.join(blas)}), "
          f"PyTorch {torch.__version__} ({torch.get_num_threads()} thread(s)), float64, CPU")

    numpy_times, torch_times = [], []
    for _ in range(args.repeats):
        clf, seconds = train_reference(ref)
        numpy_times.append(seconds)
        model, seconds = train_torch(ref)
        torch_times.append(seconds)

    X_test, y_test = ref["X_test"], ref["y_test"]
    numpy_accuracy = clf.score(X_test, y_test)
    with torch.no_grad():
        logits = model(torch.from_numpy(X_test)).numpy()
    torch_accuracy = np.mean(clf.classes_[logits.argmax(axis=1)] == y_test)
    weights = clf._parameters()
    gap = max(np.max(np.abs(weights[n] - w)) / np.max(np.abs(w)) for n, w in model.course_layout().items())

    t_numpy, t_torch = min(numpy_times), min(torch_times)
    print(f"training times (s): NumPy reference {' '.join(f'{t:.2f}' for t in numpy_times)}, "
          f"PyTorch {' '.join(f'{t:.2f}' for t in torch_times)}")
    print(f"training time, best of {args.repeats}: NumPy reference {t_numpy:.2f} s, PyTorch {t_torch:.2f} s; "
          f"PyTorch / NumPy = {t_torch / t_numpy:.2f}")
    print(f"test accuracy: NumPy reference {numpy_accuracy:.1%}, PyTorch {torch_accuracy:.1%}")
    print(f"final weights: largest relative difference {gap:.1e}")


if __name__ == "__main__":
    main()
