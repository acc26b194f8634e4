"""Refit the answerability model (assistant.answering.extractive.judgement.ANSWERABILITY) on several evaluation reports.

    newsdesk eval SET1 --corpus C1 --output r1.json ; newsdesk eval SET2 --corpus C2 --output r2.json
    python -m bench.fit_answerability r1.json r2.json [--l2 0.1] [--max-false-decline 0.08]

Each report row carries the features of the few sentences the evidence is read from (``candidates``:
coverage, dense, match, age_days, and the article's fit, which multiplies the probability). The evidence is the best of their answerabilities, so the fit
alternates: pick each question's best candidate under the current weights, fit a logistic regression
(L2, Newton's method) of "answerable" on it, repeat. Reported, so a weight is kept only when it holds
on data it was not fitted on:

- leave-one-report-out: fitted on the other reports, the threshold calibrated there too, scored on this one;
- 10-fold cross-validation over all reports pooled.

Prints the weights fitted on everything, to paste into ANSWERABILITY, with the threshold that keeps
false declines under ``--max-false-decline`` on the pooled rows.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

FEATURES = ("coverage", "dense", "match", "age")


def feature_vector(candidate: dict) -> list[float]:
    """The model's inputs for one sentence, as assistant.answering.extractive.judgement.answerability reads them."""
    age = math.log1p(max(0, candidate.get("age_days") or 0)) / 7.0
    return [1.0, candidate["coverage"], candidate.get("dense") or 0.0, candidate["match"], age]


def load(paths: list[Path]) -> list[tuple[str, list[np.ndarray], int]]:
    """(report name, candidate feature vectors, answerable) for every row that has candidates or none."""
    out = []
    for path in paths:
        report = json.loads(path.read_text(encoding="utf-8"))
        for row in report["questions"]:
            if row.get("conversational") or "candidates" not in row:
                continue
            vectors = [(np.array(feature_vector(c)), c.get("fit", 1.0)) for c in row["candidates"]]
            out.append((path.stem, vectors, int(bool(row["answerable"]))))
    return out


def _evidence(w: np.ndarray, vectors: list[tuple[np.ndarray, float]]) -> float:
    """The evidence as the answerer reads it: the best answerability, each times its article's fit."""
    return max((fit / (1.0 + math.exp(-float(v @ w))) for v, fit in vectors), default=0.0)


def fit(rows, l2: float, rounds: int = 4, start: np.ndarray | None = None) -> np.ndarray:
    w = np.zeros(len(FEATURES) + 1) if start is None else start.copy()
    for _ in range(rounds):
        picked = [(max(vs, key=lambda vf: vf[1] / (1.0 + math.exp(-float(vf[0] @ w))))[0], y) for _name, vs, y in rows if vs]
        X = np.array([v for v, _y in picked])
        y = np.array([y for _v, y in picked], dtype=float)
        for _newton in range(50):
            p = 1.0 / (1.0 + np.exp(-(X @ w)))
            penalty = l2 * np.r_[0.0, np.ones(len(w) - 1)]  # the bias is not shrunk
            grad = X.T @ (p - y) + penalty * w
            hess = X.T @ (X * (p * (1 - p))[:, None]) + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
    return w


def rates(w, rows, threshold: float) -> dict:
    """decline accuracy (unanswerable declined), false decline rate (answerable declined)."""
    answerable = [_evidence(w, vs) < threshold for _n, vs, y in rows if y]
    unanswerable = [_evidence(w, vs) < threshold for _n, vs, y in rows if not y]
    return {
        "decline_accuracy": sum(unanswerable) / max(len(unanswerable), 1),
        "false_decline_rate": sum(answerable) / max(len(answerable), 1),
    }


def calibrate(w, rows, max_false: float) -> float:
    """The highest threshold whose false decline rate stays at or under ``max_false``."""
    scores = sorted({round(_evidence(w, vs), 4) for _n, vs, _y in rows})
    best = 0.0
    for t in scores:
        if rates(w, rows, t)["false_decline_rate"] <= max_false:
            best = t
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path)
    parser.add_argument("--l2", type=float, default=0.1)
    parser.add_argument("--max-false-decline", type=float, default=0.08)
    args = parser.parse_args(argv)
    rows = load(args.reports)
    names = sorted({n for n, _v, _y in rows})
    print(f"{len(rows)} questions from {', '.join(names)}")
    for name in names:
        train = [r for r in rows if r[0] != name]
        test = [r for r in rows if r[0] == name]
        if not train:
            continue
        w = fit(train, args.l2)
        t = calibrate(w, train, args.max_false_decline)
        print(f"  fitted without {name} (threshold {t:.3f} there), on {name}: {rates(w, test, t)}")
    folds = 10
    order = np.random.default_rng(0).permutation(len(rows))
    held = []
    for k in range(folds):
        test_idx = set(order[k::folds].tolist())
        train = [r for i, r in enumerate(rows) if i not in test_idx]
        w = fit(train, args.l2)
        t = calibrate(w, train, args.max_false_decline)
        held.extend((_evidence(w, rows[i][1]) < t, rows[i][2]) for i in test_idx)
    acc = sum(d for d, y in held if not y) / max(sum(1 for _d, y in held if not y), 1)
    fdr = sum(d for d, y in held if y) / max(sum(1 for _d, y in held if y), 1)
    print(f"  10-fold, pooled: decline_accuracy {acc:.3f}, false_decline_rate {fdr:.3f}")
    w = fit(rows, args.l2)
    t = calibrate(w, rows, args.max_false_decline)
    weights = {"bias": w[0], **{f: w[i + 1] for i, f in enumerate(FEATURES)}}
    print("ANSWERABILITY = {" + ", ".join(f'"{k}": {v:.3f}' for k, v in weights.items()) + "}")
    print(f"decline_threshold = {t:.3f}: pooled {rates(w, rows, t)}")
    for name in names:
        print(f"  on {name}: {rates(w, [r for r in rows if r[0] == name], t)}")


if __name__ == "__main__":
    main()
