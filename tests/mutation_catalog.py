"""What the mutation tests know about each exercise: the mutants that are equivalent to the
reference (with the reason), the correct alternatives that must get full marks, and the
classic mistakes whose visible self-check message must name the mistake.

Mutant ids are made by tests/mutation.py from the reference answers; when a reference
changes, `.venv/bin/python -m tests.mutation_report --list <exercise>` prints the new ids.
"""

from __future__ import annotations

from dataclasses import dataclass

# ---------------------------------------------------------------- equivalent mutants
# Mutants that cannot lose points because they compute the same thing as the reference
# on every input the contract allows. Each is set aside with its reason; a mutant listed
# here that loses points is reported, so that the list cannot hide a caught mistake.

_FILLED = "every element is written before it is read, so the initial value never matters"
_FLOAT = "the inputs are cast to float64 first, and np.float64 is a subclass of float: the result is a float already"
_NUMBER = ("the result is the same number as a NumPy scalar: np.float64, a subclass of float, for float64 inputs "
           "(np.float32 for float32 ones); nothing that uses it needs a Python float")
_TWO_D = "the array is 2-D, so axis -1 is axis 1"
_INDEPENDENT = "the two statements are independent: neither reads what the other writes"
_VIEW = "h_prev = h[:, t] is a view into h, so it sees what is written into h[:, t] after it"
_NORM_CASTS = ("np.linalg.norm converts integer arrays to float itself: the norms are the same before the cast "
               "(only unsigned or boolean arrays, which no gradient check passes, would differ)")
_CAST = ("a and b are float or integer arrays: np.linalg.norm and a - b give the same float results without the "
         "cast (only unsigned or boolean arrays, which no gradient check passes, would differ)")
_SYMMETRIC = "||b - a|| = ||a - b||"
_BROADCAST = ("zeros of shape (n_nodes,) broadcast over the batch when added to dh[:, t], and the first step "
              "replaces them with an array of shape (batch_size, n_nodes)")

_NESTED_LIST = ("the grader and the self-check read tiny_dlogits with np.asarray: a nested list of the numbers is the "
                "same array")
_NEGATIVE_SIZE = "NumPy's reshape reads any negative size as the one to infer, as it reads -1"
_STATES_KEPT = "backward reads self.rnn.states but does not replace it, so the name gets the same array before or after"
_TRUE_DIVISION = ("the logits are an array (the contract): true division by the temperature makes a float array of "
                  "any integer or float logits, which softmax reads as it is")

EQUIVALENT: dict[str, str] = {
    'one_sample_gradient: change constant: "dz = softmax(z[None, :])[0]" -> "dz = softmax(z[None, :])[-1]"':
        "z[None, :] has one row, so its last row is its first",
    # Statements swapped with their neighbour.
    'SimpleRNN.__init__: swap statements: "self.W_h = sigma * rng.standard_normal((n_nodes..."'
    ' <-> "self.B = np.zeros(n_nodes)"': _INDEPENDENT,
    'SimpleRNN.forward: swap function: "states = np.zeros((batch_size, n_sequences, self.n_nodes))" -> '
    '"states = np.ones((batch_size, n_sequences, self.n_nodes))"': _FILLED,
    'SimpleRNN.forward: swap statements: "h = np.zeros((batch_size, self.n_nodes)) if h0 ..."'
    ' <-> "states = np.zeros((batch_size, n_sequences, sel..."': _INDEPENDENT,
    'small_arrays: swap statements: "x = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100"'
    ' <-> "W_x = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100"': _INDEPENDENT,
    'small_arrays: swap statements: "W_x = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100"'
    ' <-> "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3,..."': _INDEPENDENT,
    'small_arrays: swap statements: "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3,..."'
    ' <-> "B = np.array([1, 1, 1, 1])"': _INDEPENDENT,
    'small_arrays: swap statements: "B = np.array([1, 1, 1, 1])"'
    ' <-> "layer = SimpleRNN(n_features=2, n_nodes=4, rand..."': _INDEPENDENT,
    'forward_trace: swap statements: "batch_size, n_sequences, _ = x.shape"'
    ' <-> "n_nodes = W_h.shape[0]"': _INDEPENDENT,
    'forward_trace: swap statements: "a = np.zeros((batch_size, n_sequences, n_nodes))"'
    ' <-> "h = np.zeros((batch_size, n_sequences, n_nodes))"': _INDEPENDENT,
    'forward_trace: swap statements: "h = np.zeros((batch_size, n_sequences, n_nodes))"'
    ' <-> "h_prev = np.zeros((batch_size, n_nodes)) if h0 ..."': _INDEPENDENT,
    'forward_trace: swap statements: "h[:, t] = np.tanh(a[:, t])"'
    ' <-> "h_prev = h[:, t]"': _VIEW,
    'rnn_step_backward: swap statements: "dx_t = da @ W_x.T"'
    ' <-> "dh_prev = da @ W_h.T"': _INDEPENDENT,
    'rnn_step_backward: swap statements: "dh_prev = da @ W_h.T"'
    ' <-> "dW_x = x_t.T @ da"': _INDEPENDENT,
    'rnn_step_backward: swap statements: "dW_x = x_t.T @ da"'
    ' <-> "dW_h = h_prev.T @ da"': _INDEPENDENT,
    'rnn_step_backward: swap statements: "dW_h = h_prev.T @ da"'
    ' <-> "dB = da.sum(axis=0)"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "if dh.ndim == 2"'
    ' <-> "self.dW_x = np.zeros(self.W_x.shape)"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "self.dW_x = np.zeros(self.W_x.shape)"'
    ' <-> "self.dW_h = np.zeros(self.W_h.shape)"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "self.dW_h = np.zeros(self.W_h.shape)"'
    ' <-> "self.dB = np.zeros(self.B.shape)"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "self.dB = np.zeros(self.B.shape)"'
    ' <-> "dx = np.zeros(x.shape)"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "dx = np.zeros(x.shape)"'
    ' <-> "dh_next = np.zeros(self.h0.shape)"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "self.dW_x += dW_x"'
    ' <-> "self.dW_h += dW_h"': _INDEPENDENT,
    'simple_rnn_backward: swap statements: "self.dW_h += dW_h"'
    ' <-> "self.dB += dB"': _INDEPENDENT,
    'numerical_gradient: swap statements: "x[index] = saved"'
    ' <-> "grad[index] = (loss_plus - loss_minus) / (2 * eps)"': _INDEPENDENT,
    'relative_error: swap statements: "a, b = (np.asarray(a, dtype=np.float64), np.asa..."'
    ' <-> "size = np.linalg.norm(a) + np.linalg.norm(b)"': _NORM_CASTS,
    'relative_error: swap operands: "return float(np.linalg.norm(a - b) / size)"'
    ' -> "return float(np.linalg.norm(b - a) / size)"': _SYMMETRIC,
    'sgd_update: swap statements: "layer.W_x = layer.W_x - learning_rate * layer.dW_x"'
    ' <-> "layer.W_h = layer.W_h - learning_rate * layer.dW_h"': _INDEPENDENT,
    'sgd_update: swap statements: "layer.W_h = layer.W_h - learning_rate * layer.dW_h"'
    ' <-> "layer.B = layer.B - learning_rate * layer.dB"': _INDEPENDENT,
    'cross_entropy: swap statements: "rows = np.arange(batch_size)"'
    ' <-> "shifted = logits - np.max(logits, axis=1, keepd..."': _INDEPENDENT,
    'cross_entropy: swap statements: "loss = -np.mean(log_p[rows, y])"'
    ' <-> "dlogits = softmax(logits)"': _INDEPENDENT,
    'ScratchSimpleRNNClassifier.fit: swap statements: "n_samples = len(X)"'
    ' <-> "bar = self._epoch_bar()"': _INDEPENDENT,
    'ScratchSimpleRNNClassifier.fit: swap statements: "order = rng.permutation(n_samples)"'
    ' <-> "total = 0.0"': _INDEPENDENT,
    'ScratchSimpleRNNClassifier.fit: swap statements: "self.loss_history.append(total / n_samples)"'
    ' <-> "if X_val is not None"': _INDEPENDENT,
    'ScratchSimpleRNNClassifier.fit: swap statements: "if X_val is not None"'
    ' <-> "bar.set_postfix(loss=f\'{self.loss_history[-1]:...."': _INDEPENDENT,
    'ScratchSimpleRNNClassifier.fit: swap statements: "self._sgd_step(grads)"'
    ' <-> "total += loss * len(batch)"': _INDEPENDENT,
    # 02_small_array
    'small_arrays: drop keyword: "layer = SimpleRNN(n_features=2, n_nodes=4, random_state=0)" -> '
    '"layer = SimpleRNN(n_features=2, n_nodes=4)"':
        "the weights drawn at construction are all replaced by the assignment's arrays",
    'small_arrays: change constant: "layer = SimpleRNN(n_features=2, n_nodes=4, random_state=0)" -> '
    '"layer = SimpleRNN(n_features=2, n_nodes=4, random_state=1)"':
        "the weights drawn at construction are all replaced by the assignment's arrays",
    'forward_trace: swap function: "a = np.zeros((batch_size, n_sequences, n_nodes))" -> '
    '"a = np.ones((batch_size, n_sequences, n_nodes))"': _FILLED,
    'forward_trace: swap function: "h = np.zeros((batch_size, n_sequences, n_nodes))" -> '
    '"h = np.ones((batch_size, n_sequences, n_nodes))"': _FILLED,
    'forward_trace: change constant: "n_nodes = W_h.shape[0]" -> "n_nodes = W_h.shape[1]"':
        "W_h is square, (n_nodes, n_nodes), by contract",
    'forward_trace: change constant: "n_nodes = W_h.shape[0]" -> "n_nodes = W_h.shape[-1]"':
        "W_h is square, (n_nodes, n_nodes), by contract",
    'forward_trace: swap variable: "n_nodes = W_h.shape[0]" -> "n_nodes = B.shape[0]"':
        "B has shape (n_nodes,) by contract",
    'forward_one_by_one: change range: "for i in range(x.shape[0])" -> "for i in range(x.shape[0] + 1)"':
        "the extra call runs x[batch_size:batch_size + 1], an empty batch, whose result adds no row",
    'forward_one_by_one: drop keyword: "return np.concatenate(rows, axis=0)" -> "return np.concatenate(rows)"':
        "axis=0 is np.concatenate's default",
    # 03_bptt
    'simple_rnn_backward: swap function: "dx = np.zeros(x.shape)" -> "dx = np.ones(x.shape)"': _FILLED,
    'simple_rnn_backward: swap attribute: "dh_next = np.zeros(self.h0.shape)" -> '
    '"dh_next = np.zeros(self.B.shape)"': _BROADCAST,
    'simple_rnn_backward: swap attribute: "dh_next = np.zeros(self.h0.shape)" -> '
    '"dh_next = np.zeros(self.dB.shape)"': _BROADCAST,
    'simple_rnn_backward: swap variable: "for t in reversed(range(x.shape[1]))" -> '
    '"for t in reversed(range(states.shape[1]))"': "states has n_sequences steps, as x has",
    'simple_rnn_backward: swap variable: "for t in reversed(range(x.shape[1]))" -> '
    '"for t in reversed(range(dx.shape[1]))"': "dx has the shape of x",
    'simple_rnn_backward: swap variable: "for t in reversed(range(x.shape[1]))" -> '
    '"for t in reversed(range(g.shape[1]))"': "g has n_sequences steps, as x has",
    'numerical_gradient: swap function: "grad = np.zeros(x.shape)" -> "grad = np.ones(x.shape)"': _FILLED,
    'numerical_gradient: swap variable: "for index in np.ndindex(x.shape)" -> '
    '"for index in np.ndindex(grad.shape)"': "grad has the shape of x",
    'relative_error: delete "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))"':
        _CAST,
    'relative_error: swap elements: "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))" '
    '-> "b, a = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))"':
        "the relative error is symmetric in a and b",
    'relative_error: swap elements: "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))" '
    '-> "a, b = (np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64))"':
        "the relative error is symmetric in a and b",
    'relative_error: drop call: "return float(np.linalg.norm(a - b) / size)" -> '
    '"return np.linalg.norm(a - b) / size"': _FLOAT,
    'relative_error: drop call: "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))" -> '
    '"a, b = (a, np.asarray(b, dtype=np.float64))"':
        _CAST,
    'relative_error: drop keyword: "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))" -> '
    '"a, b = (np.asarray(a), np.asarray(b, dtype=np.float64))"':
        _CAST,
    'relative_error: drop call: "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))" -> '
    '"a, b = (np.asarray(a, dtype=np.float64), b)"':
        _CAST,
    'relative_error: drop keyword: "a, b = (np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))" -> '
    '"a, b = (np.asarray(a, dtype=np.float64), np.asarray(b))"':
        _CAST,
    'clip_by_global_norm: drop call: "global_norm = float(np.sqrt(sum((np.sum(np.square(g)) for g in grads))))" '
    '-> "global_norm = np.sqrt(sum((np.sum(np.square(g)) for g in grads)))"': _NUMBER,
    'clip_by_global_norm: swap comparison: "scale = max_norm / global_norm if global_norm > max_norm else 1.0" '
    '-> "scale = max_norm / global_norm if global_norm >= max_norm else 1.0"':
        "at global_norm == max_norm, max_norm / global_norm is exactly 1.0",
    'clip_by_global_norm: drop call: "return ([np.asarray(g, dtype=np.float64) * scale for g in grads], global_norm)" '
    '-> "return ([g * scale for g in grads], global_norm)"':
        "g * scale is a new array already, and an integer g becomes float by promotion",
    'clip_by_global_norm: drop keyword: '
    '"return ([np.asarray(g, dtype=np.float64) * scale for g in grads], global_norm)" '
    '-> "return ([np.asarray(g) * scale for g in grads], global_norm)"':
        "g * scale is a new array already, and an integer g becomes float by promotion",
    # 04_classifier
    'softmax: change axis: "shifted = logits - np.max(logits, axis=1, keepdims=True)" -> '
    '"shifted = logits - np.max(logits, axis=-1, keepdims=True)"': _TWO_D,
    'softmax: change axis: "return exp / np.sum(exp, axis=1, keepdims=True)" -> '
    '"return exp / np.sum(exp, axis=-1, keepdims=True)"': _TWO_D,
    'cross_entropy: update in place: "log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))" '
    '-> "shifted -= np.log(np.sum(np.exp(shifted), axis=1, keepdims=True)); ..."':
        "shifted is the function's own new array, not read again",
    'cross_entropy: change axis: "shifted = logits - np.max(logits, axis=1, keepdims=True)" -> '
    '"shifted = logits - np.max(logits, axis=-1, keepdims=True)"': _TWO_D,
    'cross_entropy: change axis: "log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))" -> '
    '"log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))"': _TWO_D,
    'cross_entropy: add axis: "loss = -np.mean(log_p[rows, y])" -> "loss = -np.mean(log_p[rows, y], axis=0)"':
        "log_p[rows, y] is 1-D: its mean over axis 0 is its mean",
    'cross_entropy: swap variable: "dlogits = softmax(logits)" -> "dlogits = softmax(log_p)"':
        "softmax does not change when a constant is subtracted from a row (log_p = logits - a row constant)",
    'cross_entropy: swap variable: "dlogits = softmax(logits)" -> "dlogits = softmax(shifted)"':
        "softmax does not change when a constant is subtracted from a row (shifted = logits - the row's max)",
    'cross_entropy: drop call: "return (float(loss), dlogits / batch_size)" -> '
    '"return (loss, dlogits / batch_size)"': _NUMBER,
    'cross_entropy: swap variable: "batch_size = logits.shape[0]" -> "batch_size = y.shape[0]"':
        "logits and y have batch_size rows each, by contract",
    'ScratchSimpleRNNClassifier._sgd_step: swap comparison: "if norm > self.clip_norm" -> '
    '"if norm >= self.clip_norm"': "at norm == clip_norm the scale clip_norm / norm is exactly 1.0",
    "ScratchSimpleRNNClassifier.fit: delete \"bar.set_postfix(loss=f'{self.loss_history[-1]:.4f}')\"":
        "it only writes the progress bar's text",
    "ScratchSimpleRNNClassifier.fit: drop keyword: \"bar.set_postfix(loss=f'{self.loss_history[-1]:.4f}')\" "
    "-> \"bar.set_postfix()\"": "it only writes the progress bar's text",
    "ScratchSimpleRNNClassifier.fit: change constant: \"bar.set_postfix(loss=f'{self.loss_history[-1]:.4f}')\" "
    "-> \"bar.set_postfix(loss=f'{self.loss_history[-0]:.4f}')\"": "it only writes the progress bar's text",
    'ScratchSimpleRNNClassifier.fit: swap variable: "n_samples = len(X)" -> "n_samples = len(y)"':
        "_start_fit has checked that X and y have the same length",
    'ScratchSimpleRNNClassifier.fit: swap variable: "if X_val is not None" -> "if y_val is not None"':
        "_start_fit has checked that X_val and y_val are given together or not at all",
    'ScratchSimpleRNNClassifier.predict: change axis: "return self.classes_[np.argmax(self.predict_proba(X), '
    'axis=1)]" -> "return self.classes_[np.argmax(self.predict_proba(X), axis=-1)]"': _TWO_D,
    # 05_language_model
    'tiny_derivation: drop call: "tiny_dlogits = np.array([[[-0.25, 0.25], [0.375, -0.375]]])" -> '
    '"tiny_dlogits = [[[-0.25, 0.25], [0.375, -0.375]]]"':
        _NESTED_LIST,
    'sequence_loss: change constant: "...entropy(logits.reshape(-1, vocab_size), targets.r..." -> '
    '"...entropy(logits.reshape(-2, vocab_size), targets.r..."':
        _NEGATIVE_SIZE,
    'sequence_loss: change constant: "...size), targets.reshape(-1))" -> "...size), targets.reshape(-2))"':
        _NEGATIVE_SIZE,
    'char_rnn_loss_and_gradients: swap statements: "loss, dlogits = sequence_loss(logits, targets)" <-> '
    '"states = self.rnn.states"':
        _INDEPENDENT,
    'char_rnn_loss_and_gradients: swap statements: "states = self.rnn.states" <-> '
    '"self.rnn.backward(dlogits @ self.W_y.T)"':
        _STATES_KEPT,
    'char_rnn_loss_and_gradients: swap elements: "...B_y\': dlogits.sum(axis=(0, 1))}" -> "...B_y\': '
    'dlogits.sum(axis=(1, 0))}"':
        "axis=(1, 0) sums over the same two axes as axis=(0, 1)",
    'make_chunks: swap statements: "length = streams.shape[1]" <-> "chunks = []"':
        _INDEPENDENT,
    'make_chunks: change constant: "length = streams.shape[1]" -> "length = streams.shape[-1]"':
        "streams is 2-D, so axis -1 is axis 1",
    'make_chunks: swap arguments: "stop = min(start + n_steps, length - 1)" -> "stop = min(length - 1, '
    'start + n_steps)"':
        "min(a, b) = min(b, a)",
    'train_epoch: swap statements: "h = None" <-> "losses, norms = ([], [])"':
        _INDEPENDENT,
    'train_epoch: swap elements: "losses, norms = ([], [])" -> "norms, losses = ([], [])"':
        "both names start as empty lists",
    'train_epoch: swap statements: "clipped, norm = clip_by_global_norm(list(grads...." <-> "parameters '
    '= model.parameters()"':
        ("model.parameters() returns the same arrays before and after clipping, which reads only the "
         "gradients"),
    'train_epoch: swap statements: "for name, grad in zip(grads, clipped)" <-> "losses.append(loss)"':
        _INDEPENDENT,
    'train_epoch: swap statements: "losses.append(loss)" <-> "norms.append(norm)"':
        _INDEPENDENT,
    'train_epoch: drop call: "clipped, norm = clip_by_global_norm(list(grads.values()), clip_norm)" -> '
    '"clipped, norm = clip_by_global_norm(grads.values(), clip_norm)"':
        ("clip_by_global_norm iterates over its argument twice, and a dict's values view can be iterated any "
         "number of times, in the same order"),
    'next_char_probabilities: drop call: "return softmax(np.asarray(logits, dtype=np.float64) / '
    'temperature)" -> "return softmax(logits / temperature)"':
        _TRUE_DIVISION,
    'next_char_probabilities: drop keyword: "return softmax(np.asarray(logits, dtype=np.float64) / '
    'temperature)" -> "return softmax(np.asarray(logits) / temperature)"':
        _TRUE_DIVISION,
    'sample: swap statements: "logits, h = model.forward(encode(prefix, model...." <-> "written = []"':
        _INDEPENDENT,
    'sample: swap statements: "written.append(model.vocab[index])" <-> "logits, h = '
    'model.forward(np.array([[index]]), h)"':
        _INDEPENDENT,
    'sample: change constant: "p = next_char_probabilities(logits[:, -1], temperature)[0]" -> "p = '
    'next_char_probabilities(logits[:, -1], temperature)[-1]"':
        "the batch has one row: row 0 is row -1",
    'sample: drop call: "logits, h = model.forward(np.array([[index]]), h)" -> "logits, h = '
    'model.forward([[index]], h)"':
        "model.forward reads its inputs with np.asarray (CharRNN._checked): a nested list is the same array",
    'bigram_probabilities: change axis: "...pha) / (counts.sum(axis=1, keepdims=True) + alph..." -> '
    '"...pha) / (counts.sum(axis=-1, keepdims=True) + alph..."':
        _TWO_D,
    'perplexity: drop call: "return float(np.exp(-np.mean(np.log(chosen))))" -> "return '
    'np.exp(-np.mean(np.log(chosen)))"':
        _NUMBER,
    'perplexity: add axis: "return float(np.exp(-np.mean(np.log(chosen))))" -> "return '
    'float(np.exp(-np.mean(np.log(chosen), axis=0)))"':
        "chosen is 1-D: its mean over axis 0 is its mean",
    'perplexity: swap variable: "chosen = probabilities[np.arange(len(targets)), targets]" -> "chosen = '
    'probabilities[np.arange(len(probabilities)), targets]"':
        "probabilities has one row per target (the contract): len(probabilities) == len(targets)",
}


# ---------------------------------------------------------------- correct alternatives
# Other correct answers (loops or vectorised, einsum, lists or preallocated arrays, other
# names, np.dot or @, inputs cast up front or left to NumPy's promotion): each must get
# every automatic point. Keyed by exercise; the code replaces the solution region.

ALTERNATIVES: dict[str, dict[str, str]] = {
    "rnn_step_forward": {
        "np.dot": "return np.tanh(np.dot(x_t, W_x) + np.dot(h_prev, W_h) + B)\n",
        "einsum": (
            'pre = np.einsum("bi,ij->bj", x_t, W_x) + np.einsum("bk,kj->bj", h_prev, W_h)\n'
            "return np.tanh(pre + B[np.newaxis, :])\n"
        ),
        "inputs cast to float64 up front, np.matmul": (
            "x_t, h_prev, W_x, W_h, B = (np.asarray(v, dtype=np.float64) for v in (x_t, h_prev, W_x, W_h, B))\n"
            "return np.tanh(np.matmul(x_t, W_x) + np.matmul(h_prev, W_h) + B)\n"
        ),
        "a loop over the batch into a preallocated array": (
            "out = np.empty((x_t.shape[0], W_h.shape[1]))\n"
            "for row in range(x_t.shape[0]):\n"
            "    out[row] = np.tanh(x_t[row] @ W_x + h_prev[row] @ W_h + B)\n"
            "return out\n"
        ),
        "loops over every node, with Python sums": (
            "batch_size, n_nodes = h_prev.shape\n"
            "out = np.zeros((batch_size, n_nodes))\n"
            "for b in range(batch_size):\n"
            "    for j in range(n_nodes):\n"
            "        total = B[j] + sum(x_t[b, i] * W_x[i, j] for i in range(x_t.shape[1]))\n"
            "        total += sum(h_prev[b, k] * W_h[k, j] for k in range(n_nodes))\n"
            "        out[b, j] = np.tanh(total)\n"
            "return out\n"
        ),
    },
    "SimpleRNN.__init__": {
        "rng.normal(0, sigma, size)": (
            "generator = np.random.default_rng(random_state)\n"
            "self.W_x = generator.normal(0.0, sigma, size=(n_features, n_nodes))\n"
            "self.W_h = generator.normal(0.0, sigma, size=(n_nodes, n_nodes))\n"
            "self.B = np.zeros((n_nodes,), dtype=np.float64)\n"
        ),
        "one draw split in two": (
            "rng = np.random.default_rng(random_state)\n"
            "draws = sigma * rng.standard_normal(n_features * n_nodes + n_nodes * n_nodes)\n"
            "self.W_x = draws[: n_features * n_nodes].reshape(n_features, n_nodes)\n"
            "self.W_h = draws[n_features * n_nodes:].reshape(n_nodes, n_nodes)\n"
            "self.B = np.zeros(n_nodes, dtype=float)\n"
        ),
        "rng.normal with a scale, B from np.ones times zero": (
            "rng = np.random.default_rng(random_state)\n"
            "self.W_x = np.asarray(rng.normal(scale=sigma, size=(n_features, n_nodes)), dtype=np.float64)\n"
            "self.W_h = (sigma * rng.standard_normal((n_nodes, n_nodes))).astype(np.float64)\n"
            "self.B = 0.0 * np.ones(n_nodes)\n"
        ),
    },
    "SimpleRNN.forward": {
        "a list of states, np.stack": (
            "h = np.zeros((x.shape[0], self.n_nodes)) if h0 is None else h0.copy()\n"
            "steps = []\n"
            "for t in range(x.shape[1]):\n"
            "    h = rnn_step_forward(x[:, t], h, self.W_x, self.W_h, self.B)\n"
            "    steps.append(h)\n"
            "states = np.stack(steps, axis=1)\n"
        ),
        "the formula inline, np.dot, iterating over x.transpose(1, 0, 2)": (
            "h = np.zeros((len(x), self.n_nodes))\n"
            "if h0 is not None:\n"
            "    h = np.array(h0, dtype=float)\n"
            "seq = np.zeros((len(x), x.shape[1], self.n_nodes))\n"
            "for step, x_t in enumerate(x.transpose(1, 0, 2)):\n"
            "    h = np.tanh(np.dot(x_t, self.W_x) + np.dot(h, self.W_h) + self.B)\n"
            "    seq[:, step] = h\n"
            "states = seq\n"
        ),
        "h0 kept at index 0 of a buffer, einsum": (
            "batch_size, n_steps = x.shape[:2]\n"
            "buffer = np.zeros((batch_size, n_steps + 1, self.n_nodes))\n"
            "if h0 is not None:\n"
            "    buffer[:, 0] = h0\n"
            "for t in range(1, n_steps + 1):\n"
            "    buffer[:, t] = np.tanh(np.einsum('bi,ij->bj', x[:, t - 1], self.W_x)\n"
            "                           + np.einsum('bi,ij->bj', buffer[:, t - 1], self.W_h) + self.B)\n"
            "states = buffer[:, 1:].copy()\n"
        ),
    },
    "small_arrays": {
        "float literals, attributes set one by one": (
            "x = np.array([[[0.01, 0.02], [0.02, 0.03], [0.03, 0.04]]])\n"
            "W_x = 0.01 * np.array([[1, 3, 5, 7], [3, 5, 7, 8]])\n"
            "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) * 0.01\n"
            "B = np.ones(4, dtype=int)\n"
            "layer = SimpleRNN(2, 4)\n"
            "layer.W_x = W_x\n"
            "layer.W_h = W_h\n"
            "layer.B = B\n"
            "h_final = layer.forward(x, h0=np.zeros((1, 4)))\n"
        ),
        "np.divide, return_sequences": (
            "x = np.divide(np.array([[[1, 2], [2, 3], [3, 4]]]), 100)\n"
            "W_x = np.divide([[1, 3, 5, 7], [3, 5, 7, 8]], 100)\n"
            "W_h = np.divide([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]], 100)\n"
            "B = np.array([1, 1, 1, 1])\n"
            "layer = SimpleRNN(n_features=2, n_nodes=4, sigma=1.0, random_state=42)\n"
            "layer.W_x, layer.W_h, layer.B = W_x, W_h, B\n"
            "h_final = layer.forward(x, return_sequences=True)[:, -1]\n"
        ),
    },
    "forward_trace": {
        "lists and np.stack, np.dot": (
            "h_prev = np.zeros((x.shape[0], W_h.shape[0])) if h0 is None else h0\n"
            "a_steps, h_steps = [], []\n"
            "for t in range(x.shape[1]):\n"
            "    a_t = np.dot(x[:, t], W_x) + np.dot(h_prev, W_h) + B\n"
            "    h_prev = np.tanh(a_t)\n"
            "    a_steps.append(a_t)\n"
            "    h_steps.append(h_prev)\n"
            "return np.stack(a_steps, axis=1).astype(float), np.stack(h_steps, axis=1)\n"
        ),
        "inputs cast up front, np.empty, einsum": (
            "x, W_x, W_h, B = (np.asarray(v, dtype=np.float64) for v in (x, W_x, W_h, B))\n"
            "n_batch, n_steps = x.shape[:2]\n"
            "h_prev = np.zeros((n_batch, len(B))) if h0 is None else np.asarray(h0, dtype=np.float64)\n"
            "pre = np.empty((n_batch, n_steps, len(B)))\n"
            "states = np.empty_like(pre)\n"
            "for t in range(n_steps):\n"
            "    pre[:, t] = np.einsum('bi,ij->bj', x[:, t], W_x) + np.einsum('bi,ij->bj', h_prev, W_h) + B\n"
            "    states[:, t] = np.tanh(pre[:, t])\n"
            "    h_prev = states[:, t]\n"
            "return pre, states\n"
        ),
        "the input term for every step at once": (
            "inputs = np.einsum('bti,ij->btj', x, W_x) + B\n"
            "a = np.zeros(inputs.shape)\n"
            "h = np.zeros(inputs.shape)\n"
            "h_prev = 0.0 * inputs[:, 0] if h0 is None else h0\n"
            "for t in range(x.shape[1]):\n"
            "    a[:, t] = inputs[:, t] + h_prev @ W_h\n"
            "    h[:, t] = np.tanh(a[:, t])\n"
            "    h_prev = h[:, t]\n"
            "return (a, h)\n"
        ),
    },
    "forward_one_by_one": {
        "a preallocated array, x[i][None]": (
            "out = np.zeros((x.shape[0], layer.n_nodes))\n"
            "for i in range(len(x)):\n"
            "    if h0 is None:\n"
            "        out[i] = layer.forward(x[i][None])[0]\n"
            "    else:\n"
            "        out[i] = layer.forward(x[i][None], h0[i][None])[0]\n"
            "return out\n"
        ),
        "a list comprehension, np.vstack": (
            "starts = [None] * len(x) if h0 is None else [h0[[i]] for i in range(len(x))]\n"
            "return np.vstack([layer.forward(x[[i]], h0=starts[i]) for i in range(len(x))])\n"
        ),
    },
    "two_step_gradients": {
        "the slopes from the pre-activations, a float each": (
            "a1 = x1 * w_x + h0 * w_h + b\n"
            "h1 = np.tanh(a1)\n"
            "a2 = x2 * w_x + h1 * w_h + b\n"
            "slope1, slope2 = 1 - np.tanh(a1) ** 2, 1 - np.tanh(a2) ** 2\n"
            "dL_dh1 = slope2 * w_h\n"
            "return float(slope2 * h1 + dL_dh1 * slope1 * h0), float(dL_dh1 * slope1 * w_h)\n"
        ),
        "math.tanh, the gradient of the last step first": (
            "import math\n"
            "h1 = math.tanh(x1 * w_x + h0 * w_h + b)\n"
            "h2 = math.tanh(x2 * w_x + h1 * w_h + b)\n"
            "back = (1 - h2 * h2) * w_h * (1 - h1 * h1)\n"
            "return h1 * (1 - h2 * h2) + h0 * back, back * w_h\n"
        ),
    },
    "rnn_step_backward": {
        "einsum, np.square": (
            "da = dh_t * (1.0 - np.square(h_t))\n"
            "return (np.einsum('bj,ij->bi', da, W_x), np.einsum('bj,ij->bi', da, W_h),\n"
            "        np.einsum('bi,bj->ij', x_t, da), np.einsum('bi,bj->ij', h_prev, da), np.sum(da, axis=0))\n"
        ),
        "np.dot, the derivative expanded": (
            "grad_a = dh_t - dh_t * h_t * h_t\n"
            "dW_x = np.dot(x_t.T, grad_a)\n"
            "dW_h = (grad_a.T @ h_prev).T\n"
            "dB = grad_a.sum(0)\n"
            "return np.dot(grad_a, W_x.T), np.dot(grad_a, W_h.T), dW_x, dW_h, dB\n"
        ),
        "outer products summed over the batch": (
            "da = dh_t * (1 - h_t ** 2)\n"
            "dW_x = np.zeros((x_t.shape[1], da.shape[1]))\n"
            "dW_h = np.zeros((h_prev.shape[1], da.shape[1]))\n"
            "for row in range(da.shape[0]):\n"
            "    dW_x += np.outer(x_t[row], da[row])\n"
            "    dW_h += np.outer(h_prev[row], da[row])\n"
            "return da @ W_x.T, da @ W_h.T, dW_x, dW_h, da.sum(axis=0)\n"
        ),
        "inputs cast to float64 up front": (
            "dh_t, x_t, h_prev, h_t, W_x, W_h = (np.asarray(v, dtype=np.float64)\n"
            "                                    for v in (dh_t, x_t, h_prev, h_t, W_x, W_h))\n"
            "da = dh_t * (1 - h_t ** 2)\n"
            "return da @ W_x.T, da @ W_h.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)\n"
        ),
    },
    "simple_rnn_backward": {
        "the step inline, local sums, a list of dx": (
            "T = self.x.shape[1]\n"
            "dW_x, dW_h, dB = 0.0, 0.0, 0.0\n"
            "carry = np.zeros((self.x.shape[0], self.n_nodes))\n"
            "dx_steps = []\n"
            "for t in range(T - 1, -1, -1):\n"
            "    incoming = carry + (dh[:, t] if dh.ndim == 3 else (dh if t == T - 1 else 0.0))\n"
            "    da = incoming * (1 - self.states[:, t] ** 2)\n"
            "    h_prev = self.states[:, t - 1] if t else self.h0\n"
            "    dW_x = dW_x + self.x[:, t].T @ da\n"
            "    dW_h = dW_h + h_prev.T @ da\n"
            "    dB = dB + da.sum(axis=0)\n"
            "    dx_steps.append(da @ self.W_x.T)\n"
            "    carry = da @ self.W_h.T\n"
            "self.dW_x = dW_x * np.ones(self.W_x.shape)\n"
            "self.dW_h = dW_h * np.ones(self.W_h.shape)\n"
            "self.dB = dB * np.ones(self.B.shape)\n"
            "self.dh0 = carry\n"
            "return np.stack(dx_steps[::-1], axis=1)\n"
        ),
        "zeros_like, dh padded to every step, rnn_step_backward": (
            "if dh.shape == self.states.shape:\n"
            "    per_step = dh\n"
            "else:\n"
            "    per_step = np.concatenate([np.zeros_like(self.states[:, 1:]), dh[:, None]], axis=1)\n"
            "every_h = np.concatenate([self.h0[:, None], self.states], axis=1)\n"
            "self.dW_x, self.dW_h = np.zeros_like(self.W_x, dtype=float), np.zeros_like(self.W_h, dtype=float)\n"
            "self.dB = np.zeros(len(self.B))\n"
            "dx = np.empty_like(self.x)\n"
            "upstream = 0\n"
            "for t in reversed(range(per_step.shape[1])):\n"
            "    grads = rnn_step_backward(per_step[:, t] + upstream, self.x[:, t], every_h[:, t],\n"
            "                              every_h[:, t + 1], self.W_x, self.W_h)\n"
            "    dx[:, t], upstream = grads[0], grads[1]\n"
            "    self.dW_x = self.dW_x + grads[2]\n"
            "    self.dW_h = self.dW_h + grads[3]\n"
            "    self.dB = self.dB + grads[4]\n"
            "self.dh0 = upstream\n"
            "return dx\n"
        ),
    },
    "numerical_gradient": {
        "np.nditer, x changed by += and -=": (
            "grad = np.zeros_like(x, dtype=np.float64)\n"
            "it = np.nditer(x, flags=['multi_index'])\n"
            "for _ in it:\n"
            "    i = it.multi_index\n"
            "    x[i] += eps\n"
            "    up = f()\n"
            "    x[i] -= 2 * eps\n"
            "    down = f()\n"
            "    x[i] += eps\n"
            "    grad[i] = (up - down) / (2 * eps)\n"
            "return grad\n"
        ),
        "itertools.product, a dict of losses": (
            "import itertools\n"
            "out = np.empty(x.shape)\n"
            "for i in itertools.product(*(range(n) for n in x.shape)):\n"
            "    original = float(x[i])\n"
            "    losses = {}\n"
            "    for sign in (1, -1):\n"
            "        x[i] = original + sign * eps\n"
            "        losses[sign] = f()\n"
            "    x[i] = original\n"
            "    out[i] = (losses[1] - losses[-1]) / eps / 2\n"
            "return out\n"
        ),
    },
    "relative_error": {
        "sums of squares, no cast": (
            "numerator = np.sqrt(np.sum((a - b) ** 2))\n"
            "denominator = np.sqrt(np.sum(a ** 2)) + np.sqrt(np.sum(b ** 2))\n"
            "return 0.0 if denominator == 0 else float(numerator / denominator)\n"
        ),
        "raveled vectors, np.dot": (
            "u = np.ravel(a).astype(float)\n"
            "v = np.ravel(b).astype(float)\n"
            "d = u - v\n"
            "total = np.sqrt(u @ u) + np.sqrt(np.dot(v, v))\n"
            "if not total:\n"
            "    return 0.0\n"
            "return float(np.sqrt(np.dot(d, d))) / float(total)\n"
        ),
    },
    "sgd_update": {
        "setattr over the names": (
            'for name in ("W_x", "W_h", "B"):\n'
            '    setattr(layer, name, getattr(layer, name) - learning_rate * getattr(layer, "d" + name))\n'
        ),
        "cast to float first, then update in place": (
            "layer.W_x = layer.W_x.astype(np.float64)\n"
            "layer.W_h = np.array(layer.W_h, dtype=float)\n"
            "layer.B = layer.B.astype(float)\n"
            "layer.W_x -= learning_rate * layer.dW_x\n"
            "layer.W_h -= learning_rate * layer.dW_h\n"
            "layer.B -= learning_rate * layer.dB\n"
            "return None\n"
        ),
        "np.subtract": (
            "layer.W_x = np.subtract(layer.W_x, np.multiply(learning_rate, layer.dW_x))\n"
            "layer.W_h = np.subtract(layer.W_h, np.multiply(learning_rate, layer.dW_h))\n"
            "layer.B = np.subtract(layer.B, np.multiply(learning_rate, layer.dB))\n"
        ),
    },
    "clip_by_global_norm": {
        "one concatenated vector, np.linalg.norm": (
            "flat = np.concatenate([np.ravel(g) for g in grads]) if len(grads) else np.zeros(0)\n"
            "global_norm = float(np.linalg.norm(flat))\n"
            "factor = min(1.0, max_norm / global_norm) if global_norm > 0 else 1.0\n"
            "return [np.array(g, dtype=float) * factor for g in grads], global_norm\n"
        ),
        "copies when short, math.sqrt, no cast": (
            "import math\n"
            "global_norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads))\n"
            "if global_norm <= max_norm:\n"
            "    return [g.copy() for g in grads], global_norm\n"
            "return [g * (max_norm / global_norm) for g in grads], global_norm\n"
        ),
    },
    "softmax": {
        "methods, [:, None]": (
            "z = logits - logits.max(axis=1)[:, None]\n"
            "e = np.exp(z)\n"
            "return e / e.sum(axis=1)[:, None]\n"
        ),
        "a loop over rows, cast up front": (
            "logits = np.asarray(logits, dtype=np.float64)\n"
            "out = np.empty(logits.shape)\n"
            "for i, row in enumerate(logits):\n"
            "    e = np.exp(row - row.max())\n"
            "    out[i] = e / e.sum()\n"
            "return out\n"
        ),
    },
    "one_sample_gradient": {
        "the one-hot vector subtracted": (
            "return softmax(z.reshape(1, -1))[0] - np.eye(len(z))[y]\n"
        ),
        "exp written out, a float copy": (
            "e = np.exp(z - z.max())\n"
            "dz = e / e.sum()\n"
            "dz = dz.astype(float)\n"
            "dz[y] = dz[y] - 1.0\n"
            "return dz\n"
        ),
    },
    "cross_entropy": {
        "a one-hot matrix, logsumexp by hand": (
            "n = len(y)\n"
            "top = logits.max(axis=1, keepdims=True)\n"
            "log_sum = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))\n"
            "loss = float(np.mean(log_sum - logits[np.arange(n), y]))\n"
            "one_hot = np.eye(logits.shape[1])[y]\n"
            "return loss, (softmax(logits) - one_hot) / n\n"
        ),
        "cast up front, a copy of p, a loop for the gradient": (
            "z = np.array(logits, dtype=np.float64)\n"
            "z = z - z.max(axis=1, keepdims=True)\n"
            "log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
            "grad = np.exp(log_probs)\n"
            "total = 0.0\n"
            "for i, label in enumerate(y):\n"
            "    total -= log_probs[i, label]\n"
            "    grad[i, label] -= 1.0\n"
            "grad /= len(y)\n"
            "return total / len(y), grad\n"
        ),
    },
    "ScratchSimpleRNNClassifier._loss_and_gradients": {
        "_logits, einsum, a dict built with dict()": (
            "last = self.rnn_.forward(X)\n"
            "loss, dz = cross_entropy(self._logits(X), y_index)\n"
            "dx = self.rnn_.backward(np.einsum('bc,hc->bh', dz, self.W_y_))\n"
            "return loss, dict(W_y=np.einsum('bh,bc->hc', last, dz), B_y=np.sum(dz, axis=0),\n"
            "                  W_x=self.rnn_.dW_x.copy(), W_h=self.rnn_.dW_h.copy(), B=self.rnn_.dB.copy())\n"
        ),
        "the softmax gradient written out": (
            "h_T = self.rnn_.forward(X)\n"
            "p = softmax(h_T @ self.W_y_ + self.B_y_)\n"
            "n = len(X)\n"
            "loss = float(-np.mean(np.log(p[np.arange(n), y_index])))\n"
            "dz = p.copy()\n"
            "dz[np.arange(n), y_index] -= 1\n"
            "dz /= n\n"
            "self.rnn_.backward(np.dot(dz, self.W_y_.T))\n"
            "grads = {}\n"
            "grads['B'] = self.rnn_.dB\n"
            "grads['W_h'] = self.rnn_.dW_h\n"
            "grads['W_x'] = self.rnn_.dW_x\n"
            "grads['B_y'] = dz.sum(axis=0)\n"
            "grads['W_y'] = np.dot(h_T.T, dz)\n"
            "return loss, grads\n"
        ),
    },
    "ScratchSimpleRNNClassifier._sgd_step": {
        "np.linalg.norm of one vector, np.subtract with out=": (
            "scale = 1.0\n"
            "if self.clip_norm is not None:\n"
            "    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()]))\n"
            "    scale = min(1.0, self.clip_norm / total) if total > 0 else 1.0\n"
            "params = self._parameters()\n"
            "for name in params:\n"
            "    np.subtract(params[name], self.learning_rate * scale * grads[name], out=params[name])\n"
        ),
        "param[...] =, clipping with clip_by_global_norm's rule": (
            "names = list(grads)\n"
            "values = [grads[n] for n in names]\n"
            "if self.clip_norm:\n"
            "    norm = float(np.sqrt(sum(float(np.sum(v * v)) for v in values)))\n"
            "    if norm > self.clip_norm:\n"
            "        values = [v * self.clip_norm / norm for v in values]\n"
            "params = self._parameters()\n"
            "for name, g in zip(names, values):\n"
            "    params[name][...] = params[name] - self.learning_rate * g\n"
        ),
    },
    "ScratchSimpleRNNClassifier.fit": {
        "rng.shuffle, a list of batch losses, np.average": (
            "count = X.shape[0]\n"
            "for _epoch in self._epoch_bar():\n"
            "    order = np.arange(count)\n"
            "    rng.shuffle(order)\n"
            "    losses, sizes = [], []\n"
            "    for first in range(0, count, self.batch_size):\n"
            "        chosen = order[first:first + self.batch_size]\n"
            "        value, grads = self._loss_and_gradients(X[chosen], y_index[chosen])\n"
            "        self._sgd_step(grads)\n"
            "        losses.append(value)\n"
            "        sizes.append(len(chosen))\n"
            "    self.loss_history.append(float(np.average(losses, weights=sizes)))\n"
            "    if y_val_index is not None:\n"
            "        z = self._logits(X_val)\n"
            "        m = z.max(axis=1, keepdims=True)\n"
            "        log_p = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))\n"
            "        self.val_loss_history.append(-log_p[np.arange(len(z)), y_val_index].mean())\n"
        ),
        "np.array_split on batch boundaries, a running sum": (
            "n = len(X)\n"
            "edges = list(range(self.batch_size, n, self.batch_size))\n"
            "for _ in self._epoch_bar():\n"
            "    running = 0.0\n"
            "    for batch in np.array_split(rng.permutation(n), edges):\n"
            "        batch_loss, gradients = self._loss_and_gradients(X[batch], y_index[batch])\n"
            "        self._sgd_step(gradients)\n"
            "        running = running + batch_loss * batch.size / n\n"
            "    self.loss_history.append(running)\n"
            "    if X_val is not None:\n"
            "        self.val_loss_history.append(cross_entropy(self._logits(X_val), y_val_index)[0])\n"
        ),
    },
    "ScratchSimpleRNNClassifier.predict_proba": {
        "the softmax inline": (
            "z = self.rnn_.forward(X) @ self.W_y_ + self.B_y_\n"
            "e = np.exp(z - z.max(axis=1, keepdims=True))\n"
            "return e / e.sum(axis=1, keepdims=True)\n"
        ),
    },
    "ScratchSimpleRNNClassifier.predict": {
        "argmax of the logits, np.take": "return np.take(self.classes_, self._logits(X).argmax(axis=1))\n",
        "a list of labels made an array": (
            "proba = self.predict_proba(X)\n"
            "return np.array([self.classes_[row.argmax()] for row in proba])\n"
        ),
    },
    # 05_language_model
    "make_vocabulary": {
        "dict.fromkeys, sorted": "return sorted(dict.fromkeys(text))\n",
        "a loop that keeps each character once, then sort": (
            "chars = []\n"
            "for char in text:\n"
            "    if char not in chars:\n"
            "        chars.append(char)\n"
            "chars.sort()\n"
            "return chars\n"
        ),
    },
    "encode": {
        "vocab.index, an int array": "return np.array([vocab.index(char) for char in text], dtype=int)\n",
        "a dict from zip, a preallocated array": (
            "lookup = dict(zip(vocab, range(len(vocab))))\n"
            "out = np.zeros(len(text), dtype=np.int64)\n"
            "for k, char in enumerate(text):\n"
            "    out[k] = lookup[char]\n"
            "return out\n"
        ),
    },
    "decode": {
        "a list comprehension, int()": 'return "".join([vocab[int(i)] for i in indices])\n',
        "a string grown in a loop": (
            'text = ""\n'
            "for i in np.asarray(indices, dtype=int).ravel():\n"
            "    text += vocab[i]\n"
            "return text\n"
        ),
    },
    "one_hot": {
        "a comparison with np.arange": (
            "return (np.asarray(indices)[..., None] == np.arange(vocab_size)).astype(np.float64)\n"),
        "np.put_along_axis into zeros": (
            "indices = np.asarray(indices)\n"
            "out = np.zeros(indices.shape + (vocab_size,))\n"
            "np.put_along_axis(out, indices[..., None], 1.0, axis=-1)\n"
            "return out\n"
        ),
    },
    "char_rnn_forward": {
        "np.eye, einsum, keywords": (
            "x = np.eye(self.vocab_size)[inputs]\n"
            "h = self.rnn.forward(x, h0=h0, return_sequences=True)\n"
            'logits = np.einsum("btn,nv->btv", h, self.W_y) + self.B_y\n'
            "return logits, h[:, -1, :]\n"
        ),
        "a loop over the steps into a preallocated array": (
            "states = self.rnn.forward(one_hot(inputs, self.vocab_size), h0, True)\n"
            "logits = np.zeros(states.shape[:2] + (self.vocab_size,))\n"
            "for t in range(states.shape[1]):\n"
            "    logits[:, t] = states[:, t] @ self.W_y + self.B_y\n"
            "return logits, states[:, -1].copy()\n"
        ),
    },
    "tiny_derivation": {
        "reshaped from four numbers": "tiny_dlogits = np.array([-0.25, 0.25, 0.375, -0.375]).reshape(1, 2, 2)\n",
        "a nested list of fractions": "tiny_dlogits = [[[-1 / 4, 1 / 4], [3 / 8, -3 / 8]]]\n",
    },
    "sequence_loss": {
        "log-softmax inline, indexed with np.indices": (
            "z = logits - logits.max(axis=-1, keepdims=True)\n"
            "log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))\n"
            "rows, steps = np.indices(targets.shape)\n"
            "loss = -log_p[rows, steps, targets].mean()\n"
            "dlogits = np.exp(log_p)\n"
            "dlogits[rows, steps, targets] -= 1\n"
            "return float(loss), dlogits / targets.size\n"
        ),
        "cross_entropy step by step": (
            "n_sequences = logits.shape[1]\n"
            "total, dlogits = 0.0, np.zeros(logits.shape)\n"
            "for t in range(n_sequences):\n"
            "    loss_t, d_t = cross_entropy(logits[:, t], targets[:, t])\n"
            "    total += loss_t\n"
            "    dlogits[:, t] = d_t / n_sequences\n"
            "return total / n_sequences, dlogits\n"
        ),
    },
    "char_rnn_loss_and_gradients": {
        "reshaped to (batch_size * n_sequences, ...)": (
            "logits, h_last = self.forward(inputs, h0)\n"
            "loss, dlogits = sequence_loss(logits, targets)\n"
            "flat_states = self.rnn.states.reshape(-1, self.n_nodes)\n"
            "flat_d = dlogits.reshape(-1, self.vocab_size)\n"
            "dW_y, dB_y = flat_states.T @ flat_d, flat_d.sum(axis=0)\n"
            "self.rnn.backward(dlogits @ self.W_y.T)\n"
            'return loss, {"W_x": self.rnn.dW_x, "W_h": self.rnn.dW_h, "B": self.rnn.dB, "W_y": dW_y, '
            '"B_y": dB_y}, h_last\n'
        ),
        "a loop over the steps": (
            "logits, h_last = self.forward(inputs, h0)\n"
            "loss, dlogits = sequence_loss(logits, targets)\n"
            "states = self.rnn.states.copy()\n"
            'grads = {"W_y": np.zeros(self.W_y.shape), "B_y": np.zeros(self.B_y.shape)}\n'
            "dh = np.zeros(states.shape)\n"
            "for t in range(states.shape[1]):\n"
            '    grads["W_y"] += states[:, t].T @ dlogits[:, t]\n'
            '    grads["B_y"] += dlogits[:, t].sum(axis=0)\n'
            "    dh[:, t] = dlogits[:, t] @ self.W_y.T\n"
            "self.rnn.backward(dh)\n"
            "grads.update(W_x=self.rnn.dW_x.copy(), W_h=self.rnn.dW_h.copy(), B=self.rnn.dB.copy())\n"
            "return loss, grads, h_last\n"
        ),
    },
    "make_chunks": {
        "a list comprehension": (
            "n = streams.shape[1] - 1\n"
            "return [(streams[:, s:min(s + n_steps, n)], streams[:, s + 1:min(s + n_steps, n) + 1])\n"
            "        for s in range(0, n, n_steps)]\n"
        ),
        "inputs and targets cut first, a while loop, copies": (
            "inputs, targets = streams[:, :-1], streams[:, 1:]\n"
            "chunks, start = [], 0\n"
            "while start < inputs.shape[1]:\n"
            "    chunks.append((inputs[:, start:start + n_steps].copy(), targets[:, start:start + n_steps].copy()))\n"
            "    start += n_steps\n"
            "return chunks\n"
        ),
    },
    "train_epoch": {
        "the names listed once, floats, h0 by keyword": (
            "losses, norms = [], []\n"
            "state = None\n"
            "params = model.parameters()\n"
            "names = list(params)\n"
            "for inputs, targets in make_chunks(streams, n_steps):\n"
            "    loss, grads, state = model.loss_and_gradients(inputs, targets, h0=state)\n"
            "    clipped, norm = clip_by_global_norm([grads[n] for n in names], clip_norm)\n"
            "    for n, g in zip(names, clipped):\n"
            "        params[n] -= learning_rate * g\n"
            "    losses.append(float(loss))\n"
            "    norms.append(float(norm))\n"
            "return losses, norms\n"
        ),
        "sorted names, np.subtract with out=": (
            "h = None\n"
            "losses, norms = [], []\n"
            "for inputs, targets in make_chunks(streams, n_steps):\n"
            "    loss, grads, h = model.loss_and_gradients(inputs, targets, h)\n"
            "    keys = sorted(grads)\n"
            "    clipped, norm = clip_by_global_norm([grads[key] for key in keys], clip_norm)\n"
            "    for key, g in zip(keys, clipped):\n"
            "        np.subtract(model.parameters()[key], learning_rate * g, out=model.parameters()[key])\n"
            "    losses.append(loss)\n"
            "    norms.append(norm)\n"
            "return losses, norms\n"
        ),
    },
    "next_char_probabilities": {
        "the softmax inline": (
            "z = np.asarray(logits, dtype=float) / temperature\n"
            "z = z - z.max(axis=1, keepdims=True)\n"
            "e = np.exp(z)\n"
            "return e / e.sum(axis=1, keepdims=True)\n"
        ),
        "multiplied by the inverse": "return softmax(np.array(logits, dtype=np.float64) * (1.0 / temperature))\n",
    },
    "sample": {
        "vocab.index, a string grown, int()": (
            "vocab = model.vocab\n"
            "logits, state = model.forward(np.array([[vocab.index(c) for c in prefix]]))\n"
            'out = ""\n'
            "for _ in range(n_chars):\n"
            "    probs = next_char_probabilities(logits[:, -1, :], temperature)\n"
            "    nxt = int(rng.choice(model.vocab_size, p=probs[0]))\n"
            "    out += vocab[nxt]\n"
            "    logits, state = model.forward(np.array([[nxt]]), state)\n"
            "return out\n"
        ),
        "the prefix read one character at a time": (
            "h = None\n"
            "for index in encode(prefix, model.vocab):\n"
            "    logits, h = model.forward(np.array([[index]]), h)\n"
            "chars = []\n"
            "while len(chars) < n_chars:\n"
            "    p = next_char_probabilities(logits[:, -1], temperature)\n"
            "    index = rng.choice(model.vocab_size, p=p[0])\n"
            "    chars.append(model.vocab[index])\n"
            "    logits, h = model.forward(np.array([[index]]), h)\n"
            'return "".join(chars)\n'
        ),
    },
    "bigram_probabilities": {
        "a loop over the pairs": (
            "counts = np.zeros((vocab_size, vocab_size))\n"
            "for a, b in zip(indices[:-1], indices[1:]):\n"
            "    counts[a, b] += 1\n"
            "counts += alpha\n"
            "return counts / counts.sum(axis=1, keepdims=True)\n"
        ),
        "np.bincount of a * vocab_size + b": (
            "pairs = np.bincount(indices[:-1] * vocab_size + indices[1:], minlength=vocab_size ** 2)\n"
            "smoothed = pairs.reshape(vocab_size, vocab_size) + alpha\n"
            "return smoothed / smoothed.sum(axis=1, keepdims=True)\n"
        ),
    },
    "perplexity": {
        "a Python sum of logs": (
            "logs = [np.log(probabilities[k, y]) for k, y in enumerate(targets)]\n"
            "return float(np.exp(-sum(logs) / len(logs)))\n"
        ),
        "np.take_along_axis": (
            "chosen = np.take_along_axis(np.asarray(probabilities), np.asarray(targets)[:, None], axis=1)\n"
            "return float(np.exp(-np.log(chosen).sum() / chosen.size))\n"
        ),
    },
}


# ---------------------------------------------------------------- classic mistakes
# The commonest mistakes, each a mutant id or hand-written code for the solution region:
# each must lose points, and the exercise's visible self-check (the first test cell that
# fails) must name it: its message contains `names`, not check_array's generic fallback.

VISIBLE_CHECK = {
    "rnn_step_forward": "test_rnn_step_forward",
    "SimpleRNN.__init__": "test_simple_rnn_init",
    "SimpleRNN.forward": "test_simple_rnn_forward",
    "small_arrays": "test_small_arrays",
    "forward_trace": "test_forward_trace",
    "forward_one_by_one": "test_forward_one_by_one",
    "two_step_gradients": "test_two_step_gradients",
    "rnn_step_backward": "test_rnn_step_backward",
    "simple_rnn_backward": "test_simple_rnn_backward",
    "numerical_gradient": "test_numerical_gradient",
    "relative_error": "test_relative_error",
    "sgd_update": "test_sgd_update",
    "clip_by_global_norm": "test_clip_by_global_norm",
    "softmax": "test_softmax",
    "one_sample_gradient": "test_one_sample_gradient",
    "cross_entropy": "test_cross_entropy",
    "ScratchSimpleRNNClassifier._loss_and_gradients": "test_loss_and_gradients",
    "ScratchSimpleRNNClassifier._sgd_step": "test_sgd_step",
    "ScratchSimpleRNNClassifier.fit": "test_fit",
    "ScratchSimpleRNNClassifier.predict_proba": "test_predict",
    "ScratchSimpleRNNClassifier.predict": "test_predict",
    "make_vocabulary": "test_encoding",
    "encode": "test_encoding",
    "decode": "test_encoding",
    "one_hot": "test_encoding",
    "char_rnn_forward": "test_char_rnn_forward",
    "tiny_derivation": "test_tiny_derivation",
    "sequence_loss": "test_sequence_loss",
    "char_rnn_loss_and_gradients": "test_char_rnn_loss_and_gradients",
    "make_chunks": "test_make_chunks",
    "train_epoch": "test_train_epoch",
    "next_char_probabilities": "test_next_char_probabilities",
    "sample": "test_sample",
    "bigram_probabilities": "test_bigram_probabilities",
    "perplexity": "test_perplexity",
}


@dataclass(frozen=True)
class Classic:
    exercise: str
    mistake: str  # what the student got wrong, in words
    names: str  # a phrase the visible self-check's message must contain
    mutant: str | None = None  # a mutant id, or
    code: str | None = None  # hand-written code for the solution region


_SNB = "ScratchSimpleRNNClassifier"
_STEP_BW = (
    "h_prev = states[:, t - 1] if t > 0 else self.h0\n"
    "dx[:, t], dh_next, dW_x, dW_h, dB = rnn_step_backward(\n"
    "    g[:, t] + dh_next, x[:, t], h_prev, states[:, t], self.W_x, self.W_h)\n"
)
_TWO_STEP = (
    "h1 = np.tanh(x1 * w_x + h0 * w_h + b)\n"
    "h2 = np.tanh(x2 * w_x + h1 * w_h + b)\n"
    "dL_da2 = 1 - h2 ** 2\n"
    "dL_da1 = dL_da2 * w_h * (1 - h1 ** 2)\n"
)
_BACKWARD_HEAD = (
    "x, states = self.x, self.states\n"
    "g = np.zeros(states.shape)\n"
    "if dh.ndim == 2:\n"
    "    g[:, -1] = dh\n"
    "else:\n"
    "    g[:] = dh\n"
)


def _BACKWARD_WITH(states_passed: str, carried: str = "g[:, t] + dh_next") -> str:  # noqa: N802
    """The reference backward pass with the two states handed to rnn_step_backward, and the
    gradient it gets, replaced: for classic mistakes in that one call."""
    step = _STEP_BW.replace("h_prev, states[:, t]", states_passed).replace("g[:, t] + dh_next", carried)
    return (_BACKWARD_HEAD
            + "self.dW_x = np.zeros(self.W_x.shape)\n"
            "self.dW_h = np.zeros(self.W_h.shape)\n"
            "self.dB = np.zeros(self.B.shape)\n"
            "dx = np.zeros(x.shape)\n"
            "dh_next = np.zeros(self.h0.shape)\n"
            "for t in reversed(range(x.shape[1])):\n"
            + "".join("    " + line + "\n" for line in step.splitlines())
            + "    self.dW_x += dW_x\n"
            "    self.dW_h += dW_h\n"
            "    self.dB += dB\n"
            "self.dh0 = dh_next\n"
            "return dx\n")


_TRAIN_EPOCH = (
    "h = None\n"
    "losses, norms = [], []\n"
    "for inputs, targets in make_chunks(streams, n_steps):\n"
    "    loss, grads, h = model.loss_and_gradients(inputs, targets, h)\n"
    "    clipped, norm = clip_by_global_norm(list(grads.values()), clip_norm)\n"
    "    parameters = model.parameters()\n"
    "    for name, grad in zip(grads, clipped):\n"
    "        parameters[name] -= learning_rate * grad\n"
    "    losses.append(loss)\n"
    "    norms.append(norm)\n"
    "return losses, norms\n"
)
_SAMPLE = (
    "logits, h = model.forward(encode(prefix, model.vocab)[None, :])\n"
    "written = []\n"
    "for _ in range(n_chars):\n"
    "    p = next_char_probabilities(logits[:, -1], temperature)[0]\n"
    "    index = rng.choice(model.vocab_size, p=p)\n"
    "    written.append(model.vocab[index])\n"
    "    logits, h = model.forward(np.array([[index]]), h)\n"
    'return "".join(written)\n'
)
_PERPLEXITY = (
    "chosen = probabilities[np.arange(len(targets)), targets]\n"
    "return float(np.exp(-np.mean(np.log(chosen))))\n"
)


CLASSICS: list[Classic] = [
    # 01_forward: rnn_step_forward
    Classic("rnn_step_forward", "bias not added", "the bias B is not added", mutant=(
        'rnn_step_forward: drop operand: "a_t = x_t @ W_x + h_prev @ W_h + B" -> "a_t = x_t @ W_x + h_prev @ W_h"')),
    Classic("rnn_step_forward", "W_h used transposed", "W_h is used transposed", mutant=(
        'rnn_step_forward: add transpose: "a_t = x_t @ W_x + h_prev @ W_h + B" -> '
        '"a_t = x_t @ W_x + h_prev @ W_h.T + B"')),
    Classic("rnn_step_forward", "recurrent term left out",
            "the recurrent term (h_prev times W_h) is missing", mutant=(
        'rnn_step_forward: drop operand: "a_t = x_t @ W_x + h_prev @ W_h + B" -> "a_t = x_t @ W_x + B"')),
    Classic("rnn_step_forward", "sigmoid instead of tanh", "this is the sigmoid", mutant=(
        'rnn_step_forward: activation to sigmoid: "return np.tanh(a_t)" -> "return 1 / (1 + np.exp(-a_t))"')),
    Classic("rnn_step_forward", "tanh not applied", "tanh is not applied", mutant=(
        'rnn_step_forward: drop call: "return np.tanh(a_t)" -> "return a_t"')),
    # 01_forward: SimpleRNN.__init__
    Classic("SimpleRNN.__init__", "sigma ignored (W_h)",
            "the standard Gaussian draws are not multiplied by sigma", mutant=(
        'SimpleRNN.__init__: drop operand: "self.W_h = sigma * rng.standard_normal((n_nodes, n_nodes))" -> '
        '"self.W_h = rng.standard_normal((n_nodes, n_nodes))"')),
    Classic("SimpleRNN.__init__", "sigma ignored (W_x)",
            "the standard Gaussian draws are not multiplied by sigma", mutant=(
        'SimpleRNN.__init__: drop operand: "self.W_x = sigma * rng.standard_normal((n_features, n_nodes))" -> '
        '"self.W_x = rng.standard_normal((n_features, n_nodes))"')),
    Classic("SimpleRNN.__init__", "the variance used as the scale", "or by the variance sigma**2", code=(
        "rng = np.random.default_rng(random_state)\n"
        "self.W_x = sigma ** 2 * rng.standard_normal((n_features, n_nodes))\n"
        "self.W_h = sigma ** 2 * rng.standard_normal((n_nodes, n_nodes))\n"
        "self.B = np.zeros(n_nodes)\n")),
    Classic("SimpleRNN.__init__", "random_state not used", "the generator should be made from random_state", code=(
        "rng = np.random.default_rng()\n"
        "self.W_x = sigma * rng.standard_normal((n_features, n_nodes))\n"
        "self.W_h = sigma * rng.standard_normal((n_nodes, n_nodes))\n"
        "self.B = np.zeros(n_nodes)\n")),
    Classic("SimpleRNN.__init__", "B not zeros", "B should start at zero", mutant=(
        'SimpleRNN.__init__: swap function: "self.B = np.zeros(n_nodes)" -> "self.B = np.ones(n_nodes)"')),
    Classic("SimpleRNN.__init__", "W_h drawn before W_x", "W_h is drawn before W_x", code=(
        "rng = np.random.default_rng(random_state)\n"
        "self.W_h = sigma * rng.standard_normal((n_nodes, n_nodes))\n"
        "self.W_x = sigma * rng.standard_normal((n_features, n_nodes))\n"
        "self.B = np.zeros(n_nodes)\n")),
    Classic("SimpleRNN.__init__", "NumPy's legacy global generator", "NumPy's old global generator", code=(
        "np.random.seed(random_state)\n"
        "self.W_x = sigma * np.random.randn(n_features, n_nodes)\n"
        "self.W_h = sigma * np.random.randn(n_nodes, n_nodes)\n"
        "self.B = np.zeros(n_nodes)\n")),
    # 01_forward: SimpleRNN.forward
    Classic("SimpleRNN.forward", "h0 ignored", "h0 is ignored", mutant=(
        "SimpleRNN.forward: conditional to its 'if' value: "
        '"h = np.zeros((batch_size, self.n_nodes)) if h0 is None else h0" -> '
        '"h = np.zeros((batch_size, self.n_nodes))"')),
    Classic("SimpleRNN.forward", "loop one step short", "the loop stops one step early", mutant=(
        'SimpleRNN.forward: change range: "for t in range(n_sequences)" -> "for t in range(n_sequences - 1)"')),
    Classic("SimpleRNN.forward", "first step skipped", "the first step is skipped", mutant=(
        'SimpleRNN.forward: change range: "for t in range(n_sequences)" -> "for t in range(1, n_sequences)"')),
    Classic("SimpleRNN.forward", "states stored one step late (h_{t-1} for h_t)", "the states are one step late",
            mutant=('SimpleRNN.forward: swap statements: "h = rnn_step_forward(x[:, t, :], h, self.W_x, s..." '
                    '<-> "states[:, t, :] = h"')),
    Classic("SimpleRNN.forward", "state not carried over", "the state is not carried over", code=(
        "batch_size, n_sequences, _ = x.shape\n"
        "h = np.zeros((batch_size, self.n_nodes)) if h0 is None else h0\n"
        "states = np.zeros((batch_size, n_sequences, self.n_nodes))\n"
        "for t in range(n_sequences):\n"
        "    states[:, t, :] = rnn_step_forward(x[:, t, :], h, self.W_x, self.W_h, self.B)\n")),
    # 02_small_array
    Classic("small_arrays", "bias left at zero", "the bias is not added", code=(
        "x = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100\n"
        "W_x = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100\n"
        "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100\n"
        "B = np.array([1, 1, 1, 1])\n"
        "layer = SimpleRNN(n_features=2, n_nodes=4, random_state=0)\n"
        "layer.W_x, layer.W_h = W_x, W_h\n"
        "h_final = layer.forward(x)\n")),
    Classic("small_arrays", "B divided by 100 too", "B is divided by 100 too", code=(
        "x = np.array([[[1, 2], [2, 3], [3, 4]]]) / 100\n"
        "W_x = np.array([[1, 3, 5, 7], [3, 5, 7, 8]]) / 100\n"
        "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / 100\n"
        "B = np.array([1, 1, 1, 1]) / 100\n"
        "layer = SimpleRNN(n_features=2, n_nodes=4, random_state=0)\n"
        "layer.W_x, layer.W_h, layer.B = W_x, W_h, B\n"
        "h_final = layer.forward(x)\n")),
    Classic("small_arrays", "W_h not divided by 100", "W_h (and perhaps x and W_x) is not divided by 100", mutant=(
        'small_arrays: drop operand: "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]]) / '
        '100" -> "W_h = np.array([[1, 3, 5, 7], [2, 4, 6, 8], [3, 5, 7, 8], [4, 6, 8, 10]])"')),
    # 02_small_array: forward_trace
    Classic("forward_trace", "h0 ignored", "h0 is ignored", mutant=(
        "forward_trace: conditional to its 'if' value: "
        '"h_prev = np.zeros((batch_size, n_nodes)) if h0 is None else h0" -> '
        '"h_prev = np.zeros((batch_size, n_nodes))"')),
    Classic("forward_trace", "state not carried over", "the state is not carried over", mutant=(
        'forward_trace: delete "h_prev = h[:, t]"')),
    Classic("forward_trace", "a_{t-1} fed back instead of h_{t-1}", "a_{t-1} is fed back", mutant=(
        'forward_trace: swap variable: "h_prev = h[:, t]" -> "h_prev = a[:, t]"')),
    Classic("forward_trace", "W_h used transposed", "W_h is transposed", mutant=(
        'forward_trace: add transpose: "a[:, t] = x[:, t] @ W_x + h_prev @ W_h + B" -> '
        '"a[:, t] = x[:, t] @ W_x + h_prev @ W_h.T + B"')),
    Classic("forward_trace", "bias not added", "the bias B is not added", mutant=(
        'forward_trace: drop operand: "a[:, t] = x[:, t] @ W_x + h_prev @ W_h + B" -> '
        '"a[:, t] = x[:, t] @ W_x + h_prev @ W_h"')),
    # 02_small_array: forward_one_by_one
    Classic("forward_one_by_one", "h0 ignored", "h0 is ignored", mutant=(
        "forward_one_by_one: conditional to its 'if' value: "
        '"start = None if h0 is None else h0[i:i + 1]" -> "start = None"')),
    Classic("forward_one_by_one", "state carried from one sequence to the next",
            "the state of one sequence is carried into the next", code=(
                "rows = []\n"
                "h = None if h0 is None else h0[:1]\n"
                "for i in range(x.shape[0]):\n"
                "    h = layer.forward(x[i:i + 1], h0=h)\n"
                "    rows.append(h)\n"
                "return np.concatenate(rows, axis=0)\n")),
    Classic("forward_one_by_one", "the whole batch in one call", "should call layer.forward once per sequence",
            code="return layer.forward(x, h0)\n"),
    # 03_bptt: rnn_step_backward
    Classic("rnn_step_backward", "tanh derivative left out", "the derivative of tanh is missing", mutant=(
        'rnn_step_backward: drop operand: "da = dh_t * (1 - h_t ** 2)" -> "da = dh_t"')),
    Classic("rnn_step_backward", "tanh derivative taken at h_prev", "the slope of tanh is taken at h_prev", mutant=(
        'rnn_step_backward: swap variable: "da = dh_t * (1 - h_t ** 2)" -> "da = dh_t * (1 - h_prev ** 2)"')),
    Classic("rnn_step_backward", "tanh derivative as (1 - h_t) ** 2", "(1 - h_t) ** 2 is not 1 - h_t ** 2", code=(
        "da = dh_t * (1 - h_t) ** 2\n"
        "return da @ W_x.T, da @ W_h.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)\n")),
    Classic("rnn_step_backward", "tanh applied to h_t again", "tanh is applied twice", code=(
        "da = dh_t * (1 - np.tanh(h_t) ** 2)\n"
        "return da @ W_x.T, da @ W_h.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)\n")),
    Classic("rnn_step_backward", "bias gradient not summed over the batch", "dB is not summed over the batch",
            mutant='rnn_step_backward: drop method call: "dB = da.sum(axis=0)" -> "dB = da"'),
    Classic("rnn_step_backward", "bias gradient summed over the nodes", "dB is summed over the nodes",
            mutant='rnn_step_backward: change axis: "dB = da.sum(axis=0)" -> "dB = da.sum(axis=1)"'),
    Classic("rnn_step_backward", "W_h not transposed in dh_prev", "W_h is not transposed", mutant=(
        'rnn_step_backward: drop transpose: "dh_prev = da @ W_h.T" -> "dh_prev = da @ W_h"')),
    Classic("rnn_step_backward", "the pre-activation recomputed without B", "the pre-activation is recomputed",
            code=(
                "da = dh_t * (1 - np.tanh(x_t @ W_x + h_prev @ W_h) ** 2)\n"
                "return da @ W_x.T, da @ W_h.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)\n")),
    Classic("rnn_step_backward", "dW_h from h_t", "dW_h uses h_t", mutant=(
        'rnn_step_backward: swap variable: "dW_h = h_prev.T @ da" -> "dW_h = h_t.T @ da"')),
    # 03_bptt: two_step_gradients
    Classic("two_step_gradients", "only the last step counted", "only step 2 is counted", code=(
        _TWO_STEP + "return h1 * dL_da2, dL_da1 * w_h\n")),
    Classic("two_step_gradients", "the state written instead of the state read", "the state the step wrote",
            code=_TWO_STEP + "return h2 * dL_da2 + h1 * dL_da1, dL_da1 * w_h\n"),
    Classic("two_step_gradients", "tanh's slopes left out", "the slopes of tanh are missing", code=(
        "h1 = np.tanh(x1 * w_x + h0 * w_h + b)\n"
        "return h1 + h0 * w_h, w_h * w_h\n")),
    Classic("two_step_gradients", "dL/dh0 without step 1's slope", "its slope 1 - h1**2 is missing",
            code=_TWO_STEP + "return h1 * dL_da2 + h0 * dL_da1, dL_da2 * w_h * w_h\n"),
    # 03_bptt: simple_rnn_backward
    Classic("simple_rnn_backward", "dW_x overwritten instead of accumulated", "add each step's gradients up",
            mutant='simple_rnn_backward: accumulation to overwrite: "self.dW_x += dW_x" -> "self.dW_x = dW_x"'),
    Classic("simple_rnn_backward", "dB overwritten instead of accumulated", "add each step's gradients up",
            mutant='simple_rnn_backward: accumulation to overwrite: "self.dB += dB" -> "self.dB = dB"'),
    Classic("simple_rnn_backward", "h_{t-1} off by one step (h_t passed as h_prev)", "dW_h uses h_t",
            code=_BACKWARD_WITH("states[:, t], states[:, t]")),
    Classic("simple_rnn_backward", "tanh derivative at h_{t-1} (h_prev passed as h_t)",
            "tanh's slope is taken at the state the step read", code=_BACKWARD_WITH("h_prev, h_prev")),
    Classic("simple_rnn_backward", "dh_prev not carried back", "carry dh_prev back to the earlier steps",
            code=_BACKWARD_WITH("h_prev, states[:, t]", carried="g[:, t]")),
    Classic("simple_rnn_backward", "weights updated inside backward", "backward changed the weights", code=(
        _BACKWARD_HEAD
        + "self.dW_x = np.zeros(self.W_x.shape)\n"
        "self.dW_h = np.zeros(self.W_h.shape)\n"
        "self.dB = np.zeros(self.B.shape)\n"
        "dx = np.zeros(x.shape)\n"
        "dh_next = np.zeros(self.h0.shape)\n"
        "for t in reversed(range(x.shape[1])):\n"
        + "".join("    " + line + "\n" for line in _STEP_BW.splitlines())
        + "    self.dW_x += dW_x\n"
        "    self.dW_h += dW_h\n"
        "    self.dB += dB\n"
        "self.W_x = self.W_x - 0.1 * self.dW_x\n"
        "self.W_h = self.W_h - 0.1 * self.dW_h\n"
        "self.B = self.B - 0.1 * self.dB\n"
        "self.dh0 = dh_next\n"
        "return dx\n")),
    Classic("simple_rnn_backward", "gradients not reset between calls", "start them from zero in every backward",
            code=(
                _BACKWARD_HEAD
                + "if not hasattr(self, 'dW_x'):\n"
                "    self.dW_x = np.zeros(self.W_x.shape)\n"
                "    self.dW_h = np.zeros(self.W_h.shape)\n"
                "    self.dB = np.zeros(self.B.shape)\n"
                "dx = np.zeros(x.shape)\n"
                "dh_next = np.zeros(self.h0.shape)\n"
                "for t in reversed(range(x.shape[1])):\n"
                + "".join("    " + line + "\n" for line in _STEP_BW.splitlines())
                + "    self.dW_x += dW_x\n"
                "    self.dW_h += dW_h\n"
                "    self.dB += dB\n"
                "self.dh0 = dh_next\n"
                "return dx\n")),
    # 03_bptt: numerical_gradient
    Classic("numerical_gradient", "one-sided difference", "this is the one-sided difference", code=(
        "grad = np.zeros(x.shape)\n"
        "base = f()\n"
        "for index in np.ndindex(x.shape):\n"
        "    saved = x[index]\n"
        "    x[index] = saved + eps\n"
        "    grad[index] = (f() - base) / eps\n"
        "    x[index] = saved\n"
        "return grad\n")),
    Classic("numerical_gradient", "divided by eps, not 2 eps", "divide by 2 * eps", mutant=(
        'numerical_gradient: change constant: "grad[index] = (loss_plus - loss_minus) / (2 * eps)" -> '
        '"grad[index] = (loss_plus - loss_minus) / (1 * eps)"')),
    Classic("numerical_gradient", "x not restored", "x was not restored", mutant=(
        'numerical_gradient: delete "x[index] = saved"')),
    Classic("numerical_gradient", "a copy of x changed, which f does not read", "f() does not see the change", code=(
        "grad = np.zeros(x.shape)\n"
        "for index in np.ndindex(x.shape):\n"
        "    moved = x.copy()\n"
        "    moved[index] += eps\n"
        "    up = f()\n"
        "    moved[index] -= 2 * eps\n"
        "    grad[index] = (up - f()) / (2 * eps)\n"
        "return grad\n")),
    # 03_bptt: relative_error
    Classic("relative_error", "norm of a + b on top", "use the norm of a - b, not of a + b", mutant=(
        'relative_error: swap operator: "return float(np.linalg.norm(a - b) / size)" -> '
        '"return float(np.linalg.norm(a + b) / size)"')),
    Classic("relative_error", "not divided by the norms", "divide by ||a|| + ||b||", mutant=(
        'relative_error: drop operand: "return float(np.linalg.norm(a - b) / size)" -> '
        '"return float(np.linalg.norm(a - b))"')),
    Classic("relative_error", "two zero arrays not handled", "two zero arrays should give 0.0", mutant=(
        'relative_error: delete "if size == 0"')),
    # 03_bptt: sgd_update
    Classic("sgd_update", "step uphill", "the step goes uphill", mutant=(
        'sgd_update: swap operator: "layer.W_x = layer.W_x - learning_rate * layer.dW_x" -> '
        '"layer.W_x = layer.W_x + learning_rate * layer.dW_x"')),
    Classic("sgd_update", "learning rate not used", "the learning rate is not used", mutant=(
        'sgd_update: drop operand: "layer.W_x = layer.W_x - learning_rate * layer.dW_x" -> '
        '"layer.W_x = layer.W_x - layer.dW_x"')),
    Classic("sgd_update", "integer B updated in place", "the update fails on the integer bias", mutant=(
        'sgd_update: update in place: "layer.B = layer.B - learning_rate * layer.dB" -> '
        '"layer.B -= learning_rate * layer.dB; ..."')),
    # 03_bptt: clip_by_global_norm
    Classic("clip_by_global_norm", "clipped by value", "that is clipping by value", code=(
        "global_norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))\n"
        "return [np.clip(g, -max_norm, max_norm) for g in grads], global_norm\n")),
    Classic("clip_by_global_norm", "each array clipped on its own", "each array was scaled to norm 1 on its own", code=(
        "global_norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))\n"
        "clipped = []\n"
        "for g in grads:\n"
        "    own = np.linalg.norm(g)\n"
        "    clipped.append(g * (max_norm / own) if own > max_norm else g.copy())\n"
        "return clipped, global_norm\n")),
    Classic("clip_by_global_norm", "gradients below max_norm scaled up", "should be left as they are", mutant=(
        "clip_by_global_norm: conditional to its 'if' value: "
        '"scale = max_norm / global_norm if global_norm > max_norm else 1.0" -> "scale = max_norm / global_norm"')),
    Classic("clip_by_global_norm", "sum of the norms as the global norm", "not the sum of the norms", code=(
        "global_norm = float(sum(np.linalg.norm(g) for g in grads))\n"
        "scale = max_norm / global_norm if global_norm > max_norm else 1.0\n"
        "return [np.asarray(g, dtype=np.float64) * scale for g in grads], global_norm\n")),
    # 04_classifier: softmax
    Classic("softmax", "normalised over the columns", "it is normalised over columns", mutant=(
        'softmax: change axis: "return exp / np.sum(exp, axis=1, keepdims=True)" -> '
        '"return exp / np.sum(exp, axis=0, keepdims=True)"')),
    Classic("softmax", "normalised over the whole array", "it is normalised over the whole array", mutant=(
        'softmax: drop keyword: "return exp / np.sum(exp, axis=1, keepdims=True)" -> '
        '"return exp / np.sum(exp, keepdims=True)"')),
    Classic("softmax", "no max-subtraction", "subtract each row's own maximum", mutant=(
        'softmax: drop operand: "shifted = logits - np.max(logits, axis=1, keepdims=True)" -> "shifted = logits"')),
    Classic("softmax", "the maximum of the columns subtracted", "subtract each row's own maximum", mutant=(
        'softmax: change axis: "shifted = logits - np.max(logits, axis=1, keepdims=True)" -> '
        '"shifted = logits - np.max(logits, axis=0, keepdims=True)"')),
    Classic("softmax", "the input changed in place", "softmax changed its input", code=(
        "logits -= np.max(logits, axis=1, keepdims=True)\n"
        "exp = np.exp(logits)\n"
        "return exp / np.sum(exp, axis=1, keepdims=True)\n")),
    # 04_classifier: one_sample_gradient
    Classic("one_sample_gradient", "the true class's term left out", "the true class's term is missing",
            code="return softmax(z[None, :])[0]\n"),
    Classic("one_sample_gradient", "the sign flipped", "the sign is wrong",
            code="return np.eye(len(z))[y] - softmax(z[None, :])[0]\n"),
    Classic("one_sample_gradient", "log of the sum not differentiated", "the second term is missing",
            code="return -np.eye(len(z))[y]\n"),
    Classic("one_sample_gradient", "1 subtracted everywhere", "1 is subtracted from every logit",
            code="return softmax(z[None, :])[0] - 1\n"),
    Classic("one_sample_gradient", "z changed in place", "one_sample_gradient changed z", code=(
        "z -= z.max()\n"
        "dz = softmax(z[None, :])[0]\n"
        "dz[y] -= 1\n"
        "return dz\n")),
    # 04_classifier: cross_entropy
    Classic("cross_entropy", "sum over the batch, not the mean", "this is the sum over the batch", mutant=(
        'cross_entropy: swap function: "loss = -np.mean(log_p[rows, y])" -> "loss = -np.sum(log_p[rows, y])"')),
    Classic("cross_entropy", "gradient not divided by the batch size", "not divided by the batch size", mutant=(
        'cross_entropy: drop operand: "return (float(loss), dlogits / batch_size)" -> '
        '"return (float(loss), dlogits)"')),
    Classic("cross_entropy", "the sign of the loss", "the sign is wrong", mutant=(
        'cross_entropy: drop unary operator: "loss = -np.mean(log_p[rows, y])" -> "loss = np.mean(log_p[rows, y])"')),
    Classic("cross_entropy", "one-hot not subtracted", "the one-hot true class is not subtracted", mutant=(
        'cross_entropy: delete "dlogits[rows, y] -= 1"')),
    Classic("cross_entropy", "log(softmax) instead of log-softmax", "not log(softmax(z))", code=(
        "p = softmax(logits)\n"
        "rows = np.arange(len(y))\n"
        "loss = -np.mean(np.log(p[rows, y]))\n"
        "dlogits = p.copy()\n"
        "dlogits[rows, y] -= 1\n"
        "return float(loss), dlogits / len(y)\n")),
    # 04_classifier: the classifier's methods
    Classic(f"{_SNB}._loss_and_gradients", "B_y gradient not summed over the batch", "sum dlogits over the batch",
            code=(
                "h = self.rnn_.forward(X)\n"
                "loss, dlogits = cross_entropy(h @ self.W_y_ + self.B_y_, y_index)\n"
                "self.rnn_.backward(dlogits @ self.W_y_.T)\n"
                'grads = {"W_x": self.rnn_.dW_x, "W_h": self.rnn_.dW_h, "B": self.rnn_.dB,\n'
                '         "W_y": h.T @ dlogits, "B_y": dlogits}\n'
                "return loss, grads\n")),
    Classic(f"{_SNB}._loss_and_gradients", "the layer's backward never called", "self.rnn_.backward", code=(
        "h_last = self.rnn_.forward(X)\n"
        "loss, dlogits = cross_entropy(h_last @ self.W_y_ + self.B_y_, y_index)\n"
        "return loss, {'W_y': h_last.T @ dlogits, 'B_y': dlogits.sum(axis=0), 'W_x': np.zeros_like(self.rnn_.W_x),\n"
        "              'W_h': np.zeros_like(self.rnn_.W_h), 'B': np.zeros_like(self.rnn_.B)}\n")),
    Classic(f"{_SNB}._loss_and_gradients", "W_y not transposed in dh", "W_y_ is not transposed", mutant=(
        f'{_SNB}._loss_and_gradients: drop transpose: "self.rnn_.backward(dlogits @ self.W_y_.T)" -> '
        '"self.rnn_.backward(dlogits @ self.W_y_)"')),
    Classic(f"{_SNB}._loss_and_gradients", "W_y gradient transposed", "the gradient of W_y is transposed", code=(
        "h = self.rnn_.forward(X)\n"
        "loss, dlogits = cross_entropy(h @ self.W_y_ + self.B_y_, y_index)\n"
        "self.rnn_.backward(dlogits @ self.W_y_.T)\n"
        'grads = {"W_x": self.rnn_.dW_x, "W_h": self.rnn_.dW_h, "B": self.rnn_.dB,\n'
        '         "W_y": dlogits.T @ h, "B_y": dlogits.sum(axis=0)}\n'
        "return loss, grads\n")),
    Classic(f"{_SNB}._loss_and_gradients", "gradient times the batch size", "batch_size times too large", code=(
        "h = self.rnn_.forward(X)\n"
        "loss, dlogits = cross_entropy(h @ self.W_y_ + self.B_y_, y_index)\n"
        "dlogits = dlogits * len(X)\n"
        "self.rnn_.backward(dlogits @ self.W_y_.T)\n"
        'grads = {"W_x": self.rnn_.dW_x, "W_h": self.rnn_.dW_h, "B": self.rnn_.dB,\n'
        '         "W_y": h.T @ dlogits, "B_y": dlogits.sum(axis=0)}\n'
        "return loss, grads\n")),
    Classic(f"{_SNB}._sgd_step", "a local name rebound instead of the array updated", "only rebinds a local name",
            code=(
                "for name, param in self._parameters().items():\n"
                "    param = param - self.learning_rate * grads[name]\n")),
    Classic(f"{_SNB}._sgd_step", "step uphill", "the step goes uphill", mutant=(
        f'{_SNB}._sgd_step: swap operator: "param -= self.learning_rate * grads[name]" -> '
        '"param += self.learning_rate * grads[name]"')),
    Classic(f"{_SNB}._sgd_step", "no clipping", "the gradients were not clipped", mutant=(
        f'{_SNB}._sgd_step: delete "if self.clip_norm is not None"')),
    Classic(f"{_SNB}._sgd_step", "each array clipped on its own", "each array was clipped on its own", code=(
        "for name, param in self._parameters().items():\n"
        "    g = grads[name]\n"
        "    if self.clip_norm is not None and np.linalg.norm(g) > self.clip_norm:\n"
        "        g = g * (self.clip_norm / np.linalg.norm(g))\n"
        "    param -= self.learning_rate * g\n")),
    Classic(f"{_SNB}.fit", "no shuffling", "the samples are not shuffled", code=(
        "n_samples = len(X)\n"
        "for _ in self._epoch_bar():\n"
        "    order = np.arange(n_samples)\n"
        "    total = 0.0\n"
        "    for start in range(0, n_samples, self.batch_size):\n"
        "        batch = order[start:start + self.batch_size]\n"
        "        loss, grads = self._loss_and_gradients(X[batch], y_index[batch])\n"
        "        self._sgd_step(grads)\n"
        "        total += loss * len(batch)\n"
        "    self.loss_history.append(total / n_samples)\n"
        "    if X_val is not None:\n"
        "        self.val_loss_history.append(cross_entropy(self._logits(X_val), y_val_index)[0])\n")),
    Classic(f"{_SNB}.fit", "one order for every epoch", "draw the permutation inside the epoch loop", code=(
        "n_samples = len(X)\n"
        "order = rng.permutation(n_samples)\n"
        "for _ in self._epoch_bar():\n"
        "    total = 0.0\n"
        "    for start in range(0, n_samples, self.batch_size):\n"
        "        batch = order[start:start + self.batch_size]\n"
        "        loss, grads = self._loss_and_gradients(X[batch], y_index[batch])\n"
        "        self._sgd_step(grads)\n"
        "        total += loss * len(batch)\n"
        "    self.loss_history.append(total / n_samples)\n"
        "    if X_val is not None:\n"
        "        self.val_loss_history.append(cross_entropy(self._logits(X_val), y_val_index)[0])\n")),
    Classic(f"{_SNB}.fit", "batch losses not weighted by size", "weight each batch loss by its size", code=(
        "n_samples = len(X)\n"
        "for _ in self._epoch_bar():\n"
        "    order = rng.permutation(n_samples)\n"
        "    losses = []\n"
        "    for start in range(0, n_samples, self.batch_size):\n"
        "        batch = order[start:start + self.batch_size]\n"
        "        loss, grads = self._loss_and_gradients(X[batch], y_index[batch])\n"
        "        self._sgd_step(grads)\n"
        "        losses.append(loss)\n"
        "    self.loss_history.append(np.mean(losses))\n"
        "    if X_val is not None:\n"
        "        self.val_loss_history.append(cross_entropy(self._logits(X_val), y_val_index)[0])\n")),
    Classic(f"{_SNB}.fit", "the last partial batch dropped", "the last batch being smaller", code=(
        "n_samples = len(X)\n"
        "for _ in self._epoch_bar():\n"
        "    order = rng.permutation(n_samples)\n"
        "    total = 0.0\n"
        "    for start in range(0, n_samples - self.batch_size + 1, self.batch_size):\n"
        "        batch = order[start:start + self.batch_size]\n"
        "        loss, grads = self._loss_and_gradients(X[batch], y_index[batch])\n"
        "        self._sgd_step(grads)\n"
        "        total += loss * len(batch)\n"
        "    self.loss_history.append(total / n_samples)\n"
        "    if X_val is not None:\n"
        "        self.val_loss_history.append(cross_entropy(self._logits(X_val), y_val_index)[0])\n")),
    Classic(f"{_SNB}.predict_proba", "logits returned", "these are the logits", mutant=(
        f'{_SNB}.predict_proba: drop call: "return softmax(self._logits(X))" -> "return self._logits(X)"')),
    Classic(f"{_SNB}.predict", "class indices returned", "predict returns class indices",
            code="return np.argmax(self.predict_proba(X), axis=1)\n"),
    # 05_language_model
    Classic("make_vocabulary", "the order of the text kept", "is not sorted",
            code="return list(dict.fromkeys(text))\n"),
    Classic("make_vocabulary", "a set returned", "should return a list of characters", code="return set(text)\n"),
    Classic("make_vocabulary", "every character kept, repeats too", "repeats characters", code="return sorted(text)\n"),
    Classic("encode", "indices from 1", "the indices start at 1", code=(
        "position = {char: index + 1 for index, char in enumerate(vocab)}\n"
        "return np.array([position[char] for char in text], dtype=np.int64)\n")),
    Classic("encode", "code points", "Unicode code points", code="return np.array([ord(char) for char in text])\n"),
    Classic("encode", "a list returned", "encode should return a NumPy array",
            code="return [vocab.index(char) for char in text]\n"),
    Classic("decode", "a list of characters returned", "decode should return one string",
            code="return [vocab[index] for index in indices]\n"),
    Classic("decode", "indices taken from 1", 'should be "ban"',
            code='return "".join(vocab[index - 1] for index in indices)\n'),
    Classic("one_hot", "the axes swapped", "the axes are swapped", code="return np.eye(vocab_size)[indices].T\n"),
    Classic("one_hot", "integers", "float64 NumPy array", code="return np.eye(vocab_size, dtype=int)[indices]\n"),
    Classic("char_rnn_forward", "the output bias left out", "bias B_y is not added", code=(
        "states = self.rnn.forward(one_hot(inputs, self.vocab_size), h0, return_sequences=True)\n"
        "return states @ self.W_y, states[:, -1]\n")),
    Classic("char_rnn_forward", "h0 ignored", "h0 is ignored", code=(
        "states = self.rnn.forward(one_hot(inputs, self.vocab_size), return_sequences=True)\n"
        "return states @ self.W_y + self.B_y, states[:, -1]\n")),
    Classic("char_rnn_forward", "the last state only", "one step only", code=(
        "h = self.rnn.forward(one_hot(inputs, self.vocab_size), h0)\n"
        "return h @ self.W_y + self.B_y, h\n")),
    Classic("char_rnn_forward", "h_last the first state", "the state after the first character", code=(
        "states = self.rnn.forward(one_hot(inputs, self.vocab_size), h0, return_sequences=True)\n"
        "return states @ self.W_y + self.B_y, states[:, 0]\n")),
    Classic("char_rnn_forward", "probabilities returned", "these are probabilities", code=(
        "states = self.rnn.forward(one_hot(inputs, self.vocab_size), h0, return_sequences=True)\n"
        "e = np.exp(states @ self.W_y + self.B_y)\n"
        "return e / e.sum(axis=-1, keepdims=True), states[:, -1]\n")),
    Classic("tiny_derivation", "the sum of the two terms", "the gradients of the sum",
            code="tiny_dlogits = np.array([[[-0.5, 0.5], [0.75, -0.75]]])\n"),
    Classic("tiny_derivation", "the signs", "the signs are wrong",
            code="tiny_dlogits = np.array([[[0.25, -0.25], [-0.375, 0.375]]])\n"),
    Classic("tiny_derivation", "the right answers' logits only", "only the right answer's logit",
            code="tiny_dlogits = np.array([[[-0.25, 0.0], [0.0, -0.375]]])\n"),
    Classic("tiny_derivation", "the steps swapped", "the two steps are swapped",
            code="tiny_dlogits = np.array([[[0.375, -0.375], [-0.25, 0.25]]])\n"),
    Classic("sequence_loss", "the loss averaged over the steps only", "averaged over the steps only", code=(
        "total, dlogits = 0.0, np.zeros(logits.shape)\n"
        "for i in range(logits.shape[0]):\n"
        "    loss_i, dlogits[i] = cross_entropy(logits[i], targets[i])\n"
        "    total += loss_i\n"
        "return total, dlogits\n")),
    Classic("sequence_loss", "the sum over every prediction", "the sum over all 6 predictions", code=(
        "n, t, v = logits.shape\n"
        "loss, d = cross_entropy(logits.reshape(n * t, v), targets.reshape(n * t))\n"
        "return loss * n * t, d.reshape(logits.shape) * n * t\n")),
    Classic("sequence_loss", "dlogits not divided", "dlogits is not divided by the number of predictions", code=(
        "n, t, v = logits.shape\n"
        "loss, d = cross_entropy(logits.reshape(n * t, v), targets.reshape(n * t))\n"
        "return loss, d.reshape(logits.shape) * n * t\n")),
    Classic("sequence_loss", "log of softmax, unshifted", "overflowed or took log(0)", code=(
        "p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)\n"
        "rows, steps = np.indices(targets.shape)\n"
        "loss = -np.mean(np.log(p[rows, steps, targets]))\n"
        "dlogits = p.copy()\n"
        "dlogits[rows, steps, targets] -= 1\n"
        "return float(loss), dlogits / targets.size\n")),
    Classic("char_rnn_loss_and_gradients", "a gradient for the last state only", "not to the last only", code=(
        "logits, h_last = self.forward(inputs, h0)\n"
        "loss, dlogits = sequence_loss(logits, targets)\n"
        "states = self.rnn.states\n"
        "self.rnn.backward((dlogits @ self.W_y.T)[:, -1])\n"
        'grads = {"W_x": self.rnn.dW_x, "W_h": self.rnn.dW_h, "B": self.rnn.dB,\n'
        '         "W_y": np.einsum("btn,btv->nv", states, dlogits), "B_y": dlogits.sum(axis=(0, 1))}\n'
        "return loss, grads, h_last\n")),
    Classic("char_rnn_loss_and_gradients", "W_y from the last step only", "should sum over every step", code=(
        "logits, h_last = self.forward(inputs, h0)\n"
        "loss, dlogits = sequence_loss(logits, targets)\n"
        "states = self.rnn.states\n"
        "self.rnn.backward(dlogits @ self.W_y.T)\n"
        'grads = {"W_x": self.rnn.dW_x, "W_h": self.rnn.dW_h, "B": self.rnn.dB,\n'
        '         "W_y": states[:, -1].T @ dlogits[:, -1], "B_y": dlogits.sum(axis=(0, 1))}\n'
        "return loss, grads, h_last\n")),
    Classic("char_rnn_loss_and_gradients", "B_y summed over the batch only", "sum dlogits over the batch AND", code=(
        "logits, h_last = self.forward(inputs, h0)\n"
        "loss, dlogits = sequence_loss(logits, targets)\n"
        "states = self.rnn.states\n"
        "self.rnn.backward(dlogits @ self.W_y.T)\n"
        'grads = {"W_x": self.rnn.dW_x, "W_h": self.rnn.dW_h, "B": self.rnn.dB,\n'
        '         "W_y": np.einsum("btn,btv->nv", states, dlogits), "B_y": dlogits.sum(axis=0)}\n'
        "return loss, grads, h_last\n")),
    Classic("char_rnn_loss_and_gradients", "W_y not transposed for the states", "a shape mismatch", code=(
        "logits, h_last = self.forward(inputs, h0)\n"
        "loss, dlogits = sequence_loss(logits, targets)\n"
        "states = self.rnn.states\n"
        "self.rnn.backward(dlogits @ self.W_y)\n"
        'grads = {"W_x": self.rnn.dW_x, "W_h": self.rnn.dW_h, "B": self.rnn.dB,\n'
        '         "W_y": np.einsum("btn,btv->nv", states, dlogits), "B_y": dlogits.sum(axis=(0, 1))}\n'
        "return loss, grads, h_last\n")),
    Classic("make_chunks", "the targets are the inputs", "the targets are the inputs themselves", code=(
        "length = streams.shape[1]\n"
        "return [(streams[:, s:min(s + n_steps, length - 1)], streams[:, s:min(s + n_steps, length - 1)])\n"
        "        for s in range(0, length - 1, n_steps)]\n")),
    Classic("make_chunks", "an off-by-one between inputs and targets", "the characters before the inputs", code=(
        "length = streams.shape[1]\n"
        "chunks = []\n"
        "for start in range(0, length - 1, n_steps):\n"
        "    stop = min(start + n_steps, length - 1)\n"
        "    chunks.append((streams[:, start + 1:stop + 1], streams[:, start:stop]))\n"
        "return chunks\n")),
    Classic("make_chunks", "the last, shorter chunk dropped", "the last chunk may be shorter than n_steps", code=(
        "length = streams.shape[1]\n"
        "chunks = []\n"
        "for start in range(0, length - n_steps, n_steps):\n"
        "    chunks.append((streams[:, start:start + n_steps], streams[:, start + 1:start + n_steps + 1]))\n"
        "return chunks\n")),
    Classic("train_epoch", "the state reset every chunk", "the state is reset at every chunk",
            code=_TRAIN_EPOCH.replace("model.loss_and_gradients(inputs, targets, h)",
                                      "model.loss_and_gradients(inputs, targets, None)")),
    Classic("train_epoch", "gradients carried across chunks", "the gradients are carried across chunks",
            code=_TRAIN_EPOCH.replace(
                "    clipped, norm = clip_by_global_norm(list(grads.values()), clip_norm)\n",
                "    total = dict(grads) if total is None else {name: total[name] + grads[name] for name in grads}\n"
                "    clipped, norm = clip_by_global_norm(list(total.values()), clip_norm)\n").replace(
                "h = None\n", "h = total = None\n")),
    Classic("train_epoch", "no clipping", "the gradients were not clipped",
            code=_TRAIN_EPOCH.replace("clip_by_global_norm(list(grads.values()), clip_norm)",
                                      "list(grads.values()), clip_by_global_norm(list(grads.values()), 1.0)[1]")),
    Classic("train_epoch", "the weights not updated in place", "update the arrays of model.parameters() in place",
            code=_TRAIN_EPOCH.replace("parameters[name] -= learning_rate * grad",
                                      "parameters[name] = parameters[name] - learning_rate * grad")),
    Classic("train_epoch", "the norms after clipping", "the global norms before clipping",
            code=_TRAIN_EPOCH.replace("norms.append(norm)", "norms.append(min(norm, clip_norm))")),
    Classic("next_char_probabilities", "the temperature applied after softmax", "after softmax",
            code="return softmax(logits) / temperature\n"),
    Classic("next_char_probabilities", "the logits multiplied", "multiplied by the temperature",
            code="return softmax(logits * temperature)\n"),
    Classic("next_char_probabilities", "the temperature unused", "the temperature is not used",
            code="return softmax(logits)\n"),
    Classic("next_char_probabilities", "an unshifted softmax", "overflowed", code=(
        "e = np.exp(logits / temperature)\n"
        "return e / e.sum(axis=1, keepdims=True)\n")),
    Classic("sample", "argmax instead of sampling", "rng.choice was never called",
            code=_SAMPLE.replace("rng.choice(model.vocab_size, p=p)", "int(np.argmax(p))")),
    Classic("sample", "the prefix returned too", "returned the prefix too",
            code=_SAMPLE.replace('return "".join(written)', 'return prefix + "".join(written)')),
    Classic("sample", "no warm-up: only the prefix's last character read", "not only its last one",
            code=_SAMPLE.replace("encode(prefix, model.vocab)", "encode(prefix[-1], model.vocab)")),
    Classic("sample", "the state not carried", "carry the state",
            code=_SAMPLE.replace("model.forward(np.array([[index]]), h)", "model.forward(np.array([[index]]))")),
    Classic("sample", "the temperature unused", "the temperature is not used",
            code=_SAMPLE.replace("next_char_probabilities(logits[:, -1], temperature)",
                                 "next_char_probabilities(logits[:, -1])")),
    Classic("sample", "the first draw after the prefix's first character", "the prefix's FIRST character",
            code=_SAMPLE.replace("logits[:, -1]", "logits[:, 0]")),
    Classic("bigram_probabilities", "fancy indexing with +=", "each pair is counted once", code=(
        "counts = np.zeros((vocab_size, vocab_size))\n"
        "counts[indices[:-1], indices[1:]] += 1\n"
        "return (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * vocab_size)\n")),
    Classic("bigram_probabilities", "transposed", "P is transposed", code=(
        "counts = np.zeros((vocab_size, vocab_size))\n"
        "np.add.at(counts, (indices[1:], indices[:-1]), 1)\n"
        "return (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * vocab_size)\n")),
    Classic("bigram_probabilities", "no smoothing", "P holds NaN", code=(
        "counts = np.zeros((vocab_size, vocab_size))\n"
        "np.add.at(counts, (indices[:-1], indices[1:]), 1)\n"
        "return counts / counts.sum(axis=1, keepdims=True)\n")),
    Classic("bigram_probabilities", "columns normalised", "each COLUMN sums to 1", code=(
        "counts = np.zeros((vocab_size, vocab_size))\n"
        "np.add.at(counts, (indices[:-1], indices[1:]), 1)\n"
        "return (counts + alpha) / (counts.sum(axis=0, keepdims=True) + alpha * vocab_size)\n")),
    Classic("perplexity", "the minus sign dropped", "the reciprocal of its perplexity",
            code=_PERPLEXITY.replace("-np.mean", "np.mean")),
    Classic("perplexity", "the mean loss returned", "this is the mean loss",
            code=_PERPLEXITY.replace("float(np.exp(-np.mean(np.log(chosen))))", "float(-np.mean(np.log(chosen)))")),
    Classic("perplexity", "the mean of 1/p", "the mean of 1/p", code=_PERPLEXITY.replace(
        "float(np.exp(-np.mean(np.log(chosen))))", "float(np.mean(1 / chosen))")),
]


def classic_label(classic: Classic) -> str:
    return f"{classic.exercise}: {classic.mistake}"
