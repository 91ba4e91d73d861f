"""The course's own layer and classifier agree with PyTorch.

Optional: skipped where PyTorch is not installed (it is not a requirement of the
course). The code under test is the reference solution itself, taken from
solutions/04_classifier.ipynb, so there is no second copy to drift from it.
"""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from tests.conftest import grade_id, read_notebook, solution_notebook_path

torch = pytest.importorskip("torch")
F = torch.nn.functional

# The cells of the reference solution that define the layer, the loss and the classifier.
REFERENCE_CELLS = ("setup", "simple_rnn", "softmax", "cross_entropy", "classifier_base", "classifier", "data")
TOLERANCE = 1e-10


def reference_namespace() -> dict:
    """Run the reference solution's definitions (and its data split) in a fresh namespace."""
    cells = {grade_id(cell): cell for cell in read_notebook(solution_notebook_path("04_classifier")).cells}
    namespace: dict = {}
    # The notebook limits BLAS to one thread; give the test process its own setting back afterwards.
    with threadpool_limits(limits=None):
        for name in REFERENCE_CELLS:
            exec(compile(cells[name].source, f"04_classifier:{name}", "exec"), namespace)
    return namespace


REF = reference_namespace()


def relative_error(ours, theirs) -> float:
    ours = np.asarray(ours, dtype=np.float64)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"shapes differ: {ours.shape} and {theirs.shape}"
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300))


def torch_rnn_like(layer) -> torch.nn.RNN:
    """torch.nn.RNN holding the weights of the course's SimpleRNN LAYER.

    PyTorch computes h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), so
    W_ih = W_x^T, W_hh = W_h^T, b_ih = B and b_hh = 0 (kept at 0: not trained).
    """
    rnn = torch.nn.RNN(
        layer.n_features, layer.n_nodes, num_layers=1, nonlinearity="tanh", batch_first=True, dtype=torch.float64
    )
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(layer.W_x.T))
        rnn.weight_hh_l0.copy_(torch.from_numpy(layer.W_h.T))
        rnn.bias_ih_l0.copy_(torch.from_numpy(layer.B))
        rnn.bias_hh_l0.zero_()
    rnn.bias_hh_l0.requires_grad_(False)
    return rnn


def random_layer(n_features: int, n_nodes: int, seed: int):
    rng = np.random.default_rng(seed)
    layer = REF["SimpleRNN"](n_features, n_nodes, sigma=0.5, random_state=seed)
    layer.B = 0.3 * rng.standard_normal(n_nodes)
    return layer, rng


SHAPES = [(1, 1, 1, 1, 0), (4, 6, 3, 5, 1), (7, 2, 8, 16, 2), (3, 9, 2, 4, 3)]  # batch, steps, features, nodes, seed


@pytest.mark.parametrize("batch_size, n_sequences, n_features, n_nodes, seed", SHAPES)
@pytest.mark.parametrize("with_h0", [False, True])
def test_forward_matches_torch_rnn(batch_size, n_sequences, n_features, n_nodes, seed, with_h0):
    layer, rng = random_layer(n_features, n_nodes, seed)
    x = rng.standard_normal((batch_size, n_sequences, n_features))
    h0 = rng.uniform(-1, 1, (batch_size, n_nodes)) if with_h0 else None
    states, last = torch_rnn_like(layer)(
        torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0)[None]
    )
    assert relative_error(layer.forward(x, h0=h0, return_sequences=True), states) <= TOLERANCE
    assert relative_error(layer.forward(x, h0=h0), last[0]) <= TOLERANCE


@pytest.mark.parametrize("batch_size, n_sequences, n_features, n_nodes, seed", SHAPES)
@pytest.mark.parametrize("every_state", [False, True])
def test_backward_matches_torch_autograd(batch_size, n_sequences, n_features, n_nodes, seed, every_state):
    layer, rng = random_layer(n_features, n_nodes, seed)
    x = rng.standard_normal((batch_size, n_sequences, n_features))
    h0 = rng.uniform(-1, 1, (batch_size, n_nodes))
    shape = (batch_size, n_sequences, n_nodes) if every_state else (batch_size, n_nodes)
    dh = rng.standard_normal(shape)  # the loss is sum(dh * states), so dh is its gradient

    layer.forward(x, h0=h0, return_sequences=every_state)
    dx = layer.backward(dh)

    rnn = torch_rnn_like(layer)
    x_torch = torch.tensor(x, requires_grad=True)
    states, last = rnn(x_torch, torch.from_numpy(h0)[None])
    (torch.sum((states if every_state else last[0]) * torch.from_numpy(dh))).backward()

    assert relative_error(layer.dW_x, rnn.weight_ih_l0.grad.T) <= TOLERANCE
    assert relative_error(layer.dW_h, rnn.weight_hh_l0.grad.T) <= TOLERANCE
    assert relative_error(layer.dB, rnn.bias_ih_l0.grad) <= TOLERANCE
    assert relative_error(dx, x_torch.grad) <= TOLERANCE


class TorchClassifier(torch.nn.Module):
    """The model of ScratchSimpleRNNClassifier in PyTorch, with a fitted or freshly drawn CLF's weights."""

    def __init__(self, clf):
        super().__init__()
        self.rnn = torch_rnn_like(clf.rnn_)
        self.head = torch.nn.Linear(clf.n_nodes, len(clf.classes_), dtype=torch.float64)
        with torch.no_grad():
            self.head.weight.copy_(torch.from_numpy(clf.W_y_.T))
            self.head.bias.copy_(torch.from_numpy(clf.B_y_))

    def forward(self, x):
        _, last = self.rnn(x)
        return self.head(last[0])

    def course_layout(self, gradients: bool = False) -> dict[str, torch.Tensor]:
        """The weights (or their gradients) under the course's names, laid out as the course lays them out."""
        get = (lambda p: p.grad) if gradients else (lambda p: p.detach())
        return {"W_x": get(self.rnn.weight_ih_l0).T, "W_h": get(self.rnn.weight_hh_l0).T,
                "B": get(self.rnn.bias_ih_l0), "W_y": get(self.head.weight).T, "B_y": get(self.head.bias)}


def drawn_classifier(n_classes: int, seed: int, **params):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 5, 3))
    y = np.resize(np.arange(n_classes), 12)
    clf = REF["ScratchSimpleRNNClassifier"](n_nodes=6, sigma=0.5, random_state=seed, **params)
    X, y_index, _, _, rng = clf._start_fit(X, y)
    return clf, X, y_index, rng


@pytest.mark.parametrize("n_classes, seed", [(2, 10), (3, 11), (5, 12)])
def test_classifier_loss_and_gradients_match_torch(n_classes, seed):
    clf, X, y_index, _ = drawn_classifier(n_classes, seed)
    loss, grads = clf._loss_and_gradients(X, y_index)

    model = TorchClassifier(clf)
    torch_loss = F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y_index))
    torch_loss.backward()

    assert abs(loss - torch_loss.item()) <= TOLERANCE * abs(torch_loss.item())
    for name, gradient in model.course_layout(gradients=True).items():
        assert relative_error(grads[name], gradient) <= TOLERANCE, name


def torch_fit(model: TorchClassifier, X, y_index, batches, learning_rate, clip_norm=None) -> list[float]:
    """Plain SGD on the given batches, as the course's fit does; returns each batch's loss."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=learning_rate)
    X, y_index = torch.from_numpy(X), torch.from_numpy(y_index)
    losses = []
    for batch in batches:
        index = torch.from_numpy(batch)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(X[index]), y_index[index])
        loss.backward()
        if clip_norm is not None:
            # The course's rule exactly (torch.nn.utils.clip_grad_norm_ adds 1e-6 to the norm).
            norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in parameters))
            if norm > clip_norm:
                for p in parameters:
                    p.grad *= clip_norm / norm
        optimizer.step()
        losses.append(loss.item())
    return losses


def course_batches(rng, n_samples: int, batch_size: int, n_epochs: int) -> list[np.ndarray]:
    """The batches the reference fit draws: one permutation per epoch from the rng of _start_fit."""
    batches = []
    for _ in range(n_epochs):
        order = rng.permutation(n_samples)
        batches += [order[start:start + batch_size] for start in range(0, n_samples, batch_size)]
    return batches


@pytest.mark.parametrize("clip_norm", [None, 0.5])
def test_training_on_digits_matches_torch_sgd(clip_norm):
    X, y = REF["X_train"][:200], REF["y_train"][:200]
    params = dict(n_nodes=16, n_epochs=3, batch_size=32, learning_rate=0.2, sigma=0.1, clip_norm=clip_norm,
                  random_state=4)
    probe = REF["ScratchSimpleRNNClassifier"](**params)
    X_float, y_index, _, _, rng = probe._start_fit(X, y)
    model = TorchClassifier(probe)  # the initial weights fit will draw
    batch_losses = torch_fit(model, X_float, y_index, course_batches(rng, len(X), 32, 3), 0.2, clip_norm)

    clf = REF["ScratchSimpleRNNClassifier"](**params).fit(X, y)
    for name, tensor in model.course_layout().items():
        assert relative_error(clf._parameters()[name], tensor) <= TOLERANCE, name
    per_epoch = np.array(batch_losses).reshape(3, -1)  # 200 samples: 6 batches of 32 and one of 8
    sizes = np.array([32] * 6 + [8])
    assert relative_error(clf.loss_history, per_epoch @ sizes / 200) <= TOLERANCE
