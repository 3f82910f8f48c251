"""Edit metrics (issue 11): judged by J and the embedder against the renderer's ground truth."""
import numpy as np
import pytest

from bench.executor import score_many
from bench.registry import METRICS, load_builtin

load_builtin()

EDIT = ("edit-success", "edit-success-1", "others-kept", "attr-preservation-ce", "identity-verified", "id-distance")


@pytest.fixture(scope="module")
def items():
    from datasets.synthfaces import SynthFaces

    return [it for it in SynthFaces(split="test", world=2).items(24, 64) if not it.labels.get("at_limit")][:20]


def test_ground_truth_edits_score_as_successes_and_originals_do_not(items):
    metrics = {n: METRICS.create(n) for n in EDIT}
    gt = [score_many(metrics, [it.target], it, "edit", [{}])[0][0] for it in items]
    orig = [score_many(metrics, [it.image], it, "edit", [{}])[0][0] for it in items]
    mean = lambda rows, k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    # the judge reads the ground-truth edit's degree (its own accuracy, >= 92 % per attribute) ...
    assert mean(gt, "edit-success") >= 0.8 and mean(gt, "edit-success-1") >= 0.95
    assert mean(gt, "others-kept") >= 0.9
    # ... and an unedited image fails the request (its degree is another one by construction)
    assert mean(orig, "edit-success") <= 0.2
    assert mean(gt, "attr-preservation-ce") < 0.5
    # reference-free metrics are stored once; identity ones against both references
    keys = set(gt[0])
    assert {"edit-success", "others-kept"} <= keys and "edit-success@original" not in keys
    assert {"identity-verified", "identity-verified@original", "id-distance@original"} <= keys
    assert all(r["id-distance"] == pytest.approx(0.0, abs=1e-5) for r in gt)  # the target against itself
    assert mean(gt, "id-distance@original") < 0.5


def test_edit_metrics_are_nan_without_a_labelled_request():
    from types import SimpleNamespace

    img = np.zeros((64, 64, 3), np.uint8)
    item = SimpleNamespace(image=img, target=None, labels={})
    rows, _ = score_many({n: METRICS.create(n) for n in ("edit-success", "others-kept")}, [img], item, "edit", [{}])
    assert np.isnan(rows[0]["edit-success"]) and np.isnan(rows[0]["others-kept"])
