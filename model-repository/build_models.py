#!/usr/bin/python3
"""Rebuild the sample Triton model repository.

Writes, relative to this file:
  simple/config.pbtxt, simple/1/model.onnx
  identity_fp32/config.pbtxt, identity_fp32/1/README.md
  breast_cancer_mlp/config.pbtxt, breast_cancer_mlp/1/model.onnx
  ../test/fixtures/breast-cancer-holdout.json

Needs only Debian's python3-numpy, python3-onnx and python3-sklearn:
  /usr/bin/python3 model-repository/build_models.py

The build is deterministic: fixed seeds, single-threaded BLAS, and no
timestamps or version strings in the outputs, so two runs give byte-identical
files.
"""

import os

# Single-threaded BLAS so floating-point reductions always run in the same order.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.normpath(
    os.path.join(HERE, "..", "test", "fixtures", "breast-cancer-holdout.json")
)

OPSET = 13  # default ("ai.onnx") domain
PRODUCER = "triage/model-repository/build_models.py"

# Breast cancer MLP settings (documented in README.md).
SPLIT_SEED = 42
INIT_SEED = 0
TEST_FRACTION = 0.2
LEARNING_RATE = 0.01
# Hidden width, L2 penalty and number of epochs are chosen by repeated
# stratified k-fold cross-validation on the TRAINING split only (see
# select_hyperparameters); the held-out split plays no part in the choice.
CV_FOLDS = 5
CV_REPEATS = 10
CV_SEED = 0
CV_HIDDEN = (8, 16)
CV_WEIGHT_DECAY = (1e-1, 3e-2, 1e-2, 1e-3)  # L2 penalty on the weight matrices (not biases)
CV_EPOCHS = (50, 100, 150, 200, 300)  # evaluated as checkpoints of one run per fold
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def save_model(model, path):
    onnx.checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = model.SerializeToString(deterministic=True)
    with open(path, "wb") as f:
        f.write(data)
    # Re-read and check the file as written.
    onnx.checker.check_model(onnx.load(path), full_check=True)


def make_model(graph, doc):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version="1",
        doc_string=doc,
    )
    model.model_version = 1
    return model


def io_block(kind, tensors):
    """Triton text-format input/output block. tensors: (name, TYPE_x, dims)."""
    entries = []
    for name, dtype, dims in tensors:
        entries.append(
            "  {\n"
            f'    name: "{name}"\n'
            f"    data_type: {dtype}\n"
            f"    dims: [ {', '.join(str(d) for d in dims)} ]\n"
            "  }"
        )
    return f"{kind} [\n" + ",\n".join(entries) + "\n]\n"


# --------------------------------------------------------------------------
# simple: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (int32 [16])
# --------------------------------------------------------------------------

def build_simple():
    shape = ["batch", 16]
    i32 = TensorProto.INT32
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"], name="add"),
            helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"], name="sub"),
        ],
        name="simple",
        inputs=[
            helper.make_tensor_value_info("INPUT0", i32, shape),
            helper.make_tensor_value_info("INPUT1", i32, shape),
        ],
        outputs=[
            helper.make_tensor_value_info("OUTPUT0", i32, shape),
            helper.make_tensor_value_info("OUTPUT1", i32, shape),
        ],
    )
    model = make_model(
        graph,
        "Triton quick-start style example: OUTPUT0 = INPUT0 + INPUT1, "
        "OUTPUT1 = INPUT0 - INPUT1 (int32, [batch, 16]).",
    )
    save_model(model, os.path.join(HERE, "simple", "1", "model.onnx"))

    config = (
        'name: "simple"\n'
        'platform: "onnxruntime_onnx"\n'
        'backend: "onnxruntime"\n'
        "max_batch_size: 8\n"
        + io_block("input", [("INPUT0", "TYPE_INT32", [16]),
                             ("INPUT1", "TYPE_INT32", [16])])
        + io_block("output", [("OUTPUT0", "TYPE_INT32", [16]),
                              ("OUTPUT1", "TYPE_INT32", [16])])
    )
    write_text(os.path.join(HERE, "simple", "config.pbtxt"), config)


# --------------------------------------------------------------------------
# identity_fp32: Triton identity backend, no model file
# --------------------------------------------------------------------------

IDENTITY_README = """\
# identity_fp32, version 1

This folder is intentionally empty apart from this note. The `identity`
backend copies each input tensor to the matching output tensor, so it needs
no model file, but Triton still needs a numeric version folder (`1/`) to
load the model. Git does not keep empty folders, hence this file.

Generated by `model-repository/build_models.py`.
"""


def build_identity():
    config = (
        'name: "identity_fp32"\n'
        'backend: "identity"\n'
        "max_batch_size: 0\n"
        + io_block("input", [("INPUT0", "TYPE_FP32", [-1])])
        + io_block("output", [("OUTPUT0", "TYPE_FP32", [-1])])
    )
    write_text(os.path.join(HERE, "identity_fp32", "config.pbtxt"), config)
    write_text(os.path.join(HERE, "identity_fp32", "1", "README.md"), IDENTITY_README)


# --------------------------------------------------------------------------
# breast_cancer_mlp
# --------------------------------------------------------------------------

def relu(x):
    return np.maximum(x, 0.0)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train_mlp(xs, y, hidden, weight_decay, epochs, checkpoints=()):
    """Full-batch Adam on softmax cross-entropy, 30 -> hidden ReLU -> 2.

    Returns (params after `epochs` epochs, final loss, {epoch: params} for
    each epoch in `checkpoints`).
    """
    n, d = xs.shape
    rng = np.random.default_rng(INIT_SEED)
    params = {
        "W1": rng.normal(0.0, np.sqrt(2.0 / d), size=(d, hidden)),  # He init
        "b1": np.zeros(hidden),
        "W2": rng.normal(0.0, np.sqrt(1.0 / hidden), size=(hidden, 2)),
        "b2": np.zeros(2),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    onehot = np.eye(2)[y]
    snapshots = {}

    loss = None
    for t in range(1, epochs + 1):
        # forward
        h_pre = xs @ params["W1"] + params["b1"]
        h = relu(h_pre)
        p = softmax(h @ params["W2"] + params["b2"])
        loss = -np.mean(np.sum(onehot * np.log(p + 1e-12), axis=1)) + 0.5 * weight_decay * (
            np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)
        )
        # backward
        dz2 = (p - onehot) / n
        grads = {
            "W2": h.T @ dz2 + weight_decay * params["W2"],
            "b2": dz2.sum(axis=0),
        }
        dh = (dz2 @ params["W2"].T) * (h_pre > 0)
        grads["W1"] = xs.T @ dh + weight_decay * params["W1"]
        grads["b1"] = dh.sum(axis=0)
        # Adam update
        for k in params:
            m[k] = ADAM_BETA1 * m[k] + (1 - ADAM_BETA1) * grads[k]
            v[k] = ADAM_BETA2 * v[k] + (1 - ADAM_BETA2) * grads[k] ** 2
            m_hat = m[k] / (1 - ADAM_BETA1 ** t)
            v_hat = v[k] / (1 - ADAM_BETA2 ** t)
            params[k] = params[k] - LEARNING_RATE * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
        if t in checkpoints:
            snapshots[t] = {k: val.copy() for k, val in params.items()}
    return params, loss, snapshots


def forward_f64(xs, p):
    """Probabilities for already-standardized inputs, in float64."""
    return softmax(relu(xs @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])


def select_hyperparameters(x_train, y_train):
    """Choose hidden width, L2 penalty and epochs using the training split only.

    Repeated stratified k-fold cross-validation: in every fold the
    standardization statistics come from that fold's training part, the model
    is trained once per (hidden, L2) and scored at each epoch checkpoint on the
    fold's validation part. The criterion is the mean out-of-fold
    cross-entropy (log loss), a proper scoring rule that is far less noisy
    than accuracy on ~91-case folds; exact ties go to the candidate listed
    first (narrower, more strongly regularized, fewer epochs).
    """
    cv = RepeatedStratifiedKFold(n_splits=CV_FOLDS, n_repeats=CV_REPEATS, random_state=CV_SEED)
    folds = list(cv.split(x_train, y_train))
    candidates = [(h, wd, e) for h in CV_HIDDEN for wd in CV_WEIGHT_DECAY for e in CV_EPOCHS]
    errors = {c: 0 for c in candidates}
    logloss = {c: 0.0 for c in candidates}
    for fit_idx, val_idx in folds:
        mean = x_train[fit_idx].mean(axis=0)
        std = x_train[fit_idx].std(axis=0)
        x_fit = (x_train[fit_idx] - mean) / std
        x_val = (x_train[val_idx] - mean) / std
        y_fit, y_val = y_train[fit_idx], y_train[val_idx]
        for hidden in CV_HIDDEN:
            for wd in CV_WEIGHT_DECAY:
                _, _, snaps = train_mlp(x_fit, y_fit, hidden, wd, max(CV_EPOCHS), CV_EPOCHS)
                for epochs in CV_EPOCHS:
                    p = forward_f64(x_val, snaps[epochs])
                    errors[(hidden, wd, epochs)] += int(np.sum(p.argmax(axis=1) != y_val))
                    logloss[(hidden, wd, epochs)] += float(
                        -np.mean(np.log(p[np.arange(len(y_val)), y_val] + 1e-12))
                    )
    n_pred = len(folds) * len(y_train) // CV_FOLDS  # each case is validated once per repeat
    results = [
        {
            "hidden": h, "weight_decay": wd, "epochs": e,
            "errors": errors[(h, wd, e)], "predictions": n_pred,
            "accuracy": 1.0 - errors[(h, wd, e)] / n_pred,
            "logloss": logloss[(h, wd, e)] / len(folds),
        }
        for (h, wd, e) in candidates
    ]
    best = results[0]
    for r in results[1:]:
        if r["logloss"] < best["logloss"]:
            best = r
    return best, results


def forward_f32(x, mean, std, p):
    """The exported graph, evaluated in float32 with NumPy."""
    x = x.astype(np.float32)
    z = (x - mean) / std
    h = np.maximum(z @ p["W1"] + p["b1"], np.float32(0))
    return softmax(h @ p["W2"] + p["b2"]).astype(np.float32)


def metrics(pred, y):
    """Malignant (label 0) is the positive class for sensitivity/specificity."""
    tp = int(np.sum((pred == 0) & (y == 0)))
    fn = int(np.sum((pred == 1) & (y == 0)))
    tn = int(np.sum((pred == 1) & (y == 1)))
    fp = int(np.sum((pred == 0) & (y == 1)))
    return {
        "correct": tp + tn,
        "total": len(y),
        "accuracy": (tp + tn) / len(y),
        "tp": tp, "fn": fn, "tn": tn, "fp": fp,
        "sensitivity": tp / (tp + fn),
        "specificity": tn / (tn + fp),
    }


def fmt_number(x):
    """Shortest repr that round-trips the float64 value; integers stay integral-looking."""
    return repr(float(x))


def write_fixture(data, x_test, y_test):
    feature_names = [str(s) for s in data.feature_names]
    lines = [
        "{",
        '  "description": ' + json.dumps(
            "Held-out 20% of the Wisconsin Diagnostic Breast Cancer data set "
            "(sklearn.datasets.load_breast_cancer), stratified split with "
            f"random_state={SPLIT_SEED}; never seen in training or in the "
            "standardization statistics of model-repository/breast_cancer_mlp. "
            "Features are raw, unstandardized measurements in the data set's "
            "column order. label: 0 = malignant, 1 = benign. Generated by "
            "model-repository/build_models.py."
        ) + ",",
        '  "feature_names": ' + json.dumps(feature_names) + ",",
        '  "label_names": ["malignant", "benign"],',
        '  "cases": [',
    ]
    case_lines = []
    for row, label in zip(x_test, y_test):
        feats = ", ".join(fmt_number(v) for v in row)
        case_lines.append(f'    {{"features": [{feats}], "label": {int(label)}}}')
    lines.append(",\n".join(case_lines))
    lines.append("  ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    # Sanity: valid JSON that round-trips the exact values.
    parsed = json.loads(text)
    assert np.array_equal(np.array([c["features"] for c in parsed["cases"]]), x_test)
    write_text(FIXTURE, text)


def build_breast_cancer():
    data = load_breast_cancer()
    x, y = data.data.astype(np.float64), data.target.astype(np.int64)
    assert x.shape == (569, 30)
    assert list(data.target_names) == ["malignant", "benign"]

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_FRACTION, stratify=y, random_state=SPLIT_SEED
    )

    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)  # population std (ddof=0), training split only
    assert np.all(std > 0)

    chosen, cv_results = select_hyperparameters(x_train, y_train)
    hidden, weight_decay, epochs = chosen["hidden"], chosen["weight_decay"], chosen["epochs"]
    params, final_loss, _ = train_mlp((x_train - mean) / std, y_train, hidden, weight_decay, epochs)

    # Everything exported is float32; evaluate exactly that.
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    p32 = {k: val.astype(np.float32) for k, val in params.items()}

    train_m = metrics(forward_f32(x_train, mean32, std32, p32).argmax(axis=1), y_train)
    test_m = metrics(forward_f32(x_test, mean32, std32, p32).argmax(axis=1), y_test)

    # ONNX graph: Sub(mean) -> Div(std) -> MatMul -> Add -> Relu -> MatMul -> Add -> Softmax
    inits = [
        numpy_helper.from_array(mean32, "feature_mean"),
        numpy_helper.from_array(std32, "feature_std"),
        numpy_helper.from_array(p32["W1"], "W1"),
        numpy_helper.from_array(p32["b1"], "b1"),
        numpy_helper.from_array(p32["W2"], "W2"),
        numpy_helper.from_array(p32["b2"], "b2"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "feature_mean"], ["centered"], name="standardize_sub"),
        helper.make_node("Div", ["centered", "feature_std"], ["standardized"], name="standardize_div"),
        helper.make_node("MatMul", ["standardized", "W1"], ["hidden_mm"], name="dense1_matmul"),
        helper.make_node("Add", ["hidden_mm", "b1"], ["hidden_pre"], name="dense1_bias"),
        helper.make_node("Relu", ["hidden_pre"], ["hidden"], name="dense1_relu"),
        helper.make_node("MatMul", ["hidden", "W2"], ["logits_mm"], name="dense2_matmul"),
        helper.make_node("Add", ["logits_mm", "b2"], ["logits"], name="dense2_bias"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "breast_cancer_mlp",
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 30])],
        outputs=[helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
        initializer=inits,
    )
    model = make_model(
        graph,
        f"Demonstration MLP (30 -> {hidden} ReLU -> 2 softmax) on the Wisconsin Diagnostic "
        "Breast Cancer data set. Input: 30 raw features (standardization is inside the "
        "graph). Output: probabilities (malignant, benign). NOT FOR CLINICAL USE.",
    )
    save_model(model, os.path.join(HERE, "breast_cancer_mlp", "1", "model.onnx"))

    config = (
        'name: "breast_cancer_mlp"\n'
        'platform: "onnxruntime_onnx"\n'
        'backend: "onnxruntime"\n'
        "max_batch_size: 256\n"
        + io_block("input", [("features", "TYPE_FP32", [30])])
        + io_block("output", [("probabilities", "TYPE_FP32", [2])])
        + "dynamic_batching {\n"
        "  preferred_batch_size: [ 64, 128, 256 ]\n"
        "  max_queue_delay_microseconds: 2000\n"
        "}\n"
        "instance_group [\n"
        "  {\n"
        "    kind: KIND_CPU\n"
        "    count: 1\n"
        "  }\n"
        "]\n"
    )
    write_text(os.path.join(HERE, "breast_cancer_mlp", "config.pbtxt"), config)

    write_fixture(data, x_test, y_test)

    def counts(labels):
        return f"{int(np.sum(labels == 0))} malignant / {int(np.sum(labels == 1))} benign"

    print(f"breast_cancer_mlp: split train {len(y_train)} ({counts(y_train)}), "
          f"held-out {len(y_test)} ({counts(y_test)})")
    print(f"breast_cancer_mlp: {CV_FOLDS}-fold CV x {CV_REPEATS} repeats on the training split, "
          "best epoch count per (hidden, L2):")
    for h in CV_HIDDEN:
        for wd in CV_WEIGHT_DECAY:
            r = min((r for r in cv_results if r["hidden"] == h and r["weight_decay"] == wd),
                    key=lambda r: r["logloss"])
            print(f"  hidden {h:2d}  L2 {wd:<6g} epochs {r['epochs']:3d}  "
                  f"CV log loss {r['logloss']:.4f}  CV accuracy {r['accuracy']:.4f} "
                  f"({r['predictions'] - r['errors']}/{r['predictions']})")
    print(f"breast_cancer_mlp: chosen hidden {hidden}, L2 {weight_decay:g}, {epochs} epochs "
          f"(CV log loss {chosen['logloss']:.4f}, CV accuracy {chosen['accuracy']:.4f})")
    print(f"breast_cancer_mlp: final training loss {final_loss:.4f}, "
          f"training accuracy {train_m['accuracy']:.4f} "
          f"({train_m['correct']}/{train_m['total']})")
    print(f"breast_cancer_mlp: held-out accuracy {test_m['accuracy']:.4f} "
          f"({test_m['correct']}/{test_m['total']})")
    print(f"breast_cancer_mlp: malignant sensitivity {test_m['sensitivity']:.4f} "
          f"({test_m['tp']}/{test_m['tp'] + test_m['fn']}), "
          f"specificity {test_m['specificity']:.4f} "
          f"({test_m['tn']}/{test_m['tn'] + test_m['fp']})")
    if test_m["accuracy"] < 0.95:
        sys.exit(f"held-out accuracy {test_m['accuracy']:.4f} is below 0.95")


def main():
    build_simple()
    print("simple: wrote config.pbtxt and 1/model.onnx")
    build_identity()
    print("identity_fp32: wrote config.pbtxt and 1/README.md")
    build_breast_cancer()
    print(f"breast_cancer_mlp: wrote config.pbtxt, 1/model.onnx and {os.path.relpath(FIXTURE, os.path.dirname(HERE))}")


if __name__ == "__main__":
    main()
