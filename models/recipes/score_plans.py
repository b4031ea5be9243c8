#!/usr/bin/env python3
"""score_plans.py - exact plan accuracy of `octo run --json` output.

The recipes score with `octo eval` when the binary has it. This scorer is
the fallback (and a cross-check): it reads the reference records and the
predictions, one JSON object a line in the same order, and writes the part
of report.json that needs no function set: exact plan accuracy (the called
functions in an order that keeps the reference's "links"; without links,
the reference's order), step validity, argument accuracy and plan-and-
arguments exact, overall and per plan length (docs/eval.md defines them).

usage: score_plans.py REFERENCE.jsonl PREDICTIONS.jsonl -o report.json
"""
import argparse
import json
import os
import sys
import tempfile


def plan_order(pred_fns, ref_fns, links):
    """Reference index for each predicted call, or None when no order fits."""
    if len(pred_fns) != len(ref_fns):
        return None
    if not links:
        return list(range(len(ref_fns))) if pred_fns == ref_fns else None
    before = {j: {a for a, b in links if b == j} for j in range(len(ref_fns))}
    used, out = set(), []

    def walk(i):
        if i == len(pred_fns):
            return True
        for j, fn in enumerate(ref_fns):
            if j not in used and fn == pred_fns[i] and before[j] <= used:
                used.add(j)
                out.append(j)
                if walk(i + 1):
                    return True
                used.discard(j)
                out.pop()
        return False

    return out if walk(0) else None


def norm(v):
    return json.dumps(v, sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("predictions")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    refs = [json.loads(l) for l in open(a.reference, encoding="utf-8") if l.strip()]
    preds = [json.loads(l) for l in open(a.predictions, encoding="utf-8") if l.strip()]
    if len(preds) != len(refs):
        sys.exit(f"score_plans: {len(refs)} references but {len(preds)} predictions")
    groups = {}

    def add(key, exact, valid, args_ok, n_calls, full):
        g = groups.setdefault(key, {"records": 0, "exact": 0, "valid": 0, "args_ok": 0, "calls": 0, "full": 0})
        g["records"] += 1
        g["exact"] += exact
        g["valid"] += valid
        g["args_ok"] += args_ok
        g["calls"] += n_calls
        g["full"] += full

    mistakes = []
    for ref, pred in zip(refs, preds):
        rc = ref.get("calls", [])
        pc = pred.get("calls", []) or []
        rf = [c["function"] for c in rc]
        pf = [c.get("function") for c in pc]
        links = [tuple(x) for x in ref.get("links", []) if isinstance(x, list) and len(x) == 2]
        order = plan_order(pf, rf, links)
        steps = pred.get("steps", []) or []
        valid = int(bool(steps) and len(steps) == len(pc) and all(s.strip() for s in steps) and "error" not in pred)
        pairs = list(zip(range(len(pc)), order)) if order is not None else [
            (i, i) for i in range(min(len(pc), len(rc))) if pf[i] == rf[i]]
        args_ok = sum(norm(pc[i].get("arguments")) == norm(rc[j].get("arguments")) for i, j in pairs)
        exact = int(order is not None)
        full = int(exact and args_ok == len(rc))
        n = len(rc)
        for key in ("overall", str(n) if n < 10 else "10+"):
            add(key, exact, valid, args_ok, n, full)
        if not exact and len(mistakes) < 20:
            mistakes.append({"query": ref.get("query"), "expected": rf, "predicted": pf, "error": pred.get("error")})

    def scores(g):
        r = max(g["records"], 1)
        return {
            "records": g["records"],
            "exact_plan_accuracy": g["exact"] / r,
            "step_validity": g["valid"] / r,
            "argument_accuracy": g["args_ok"] / max(g["calls"], 1),
            "plan_and_arguments_exact": g["full"] / r,
        }

    rep = {
        "scorer": "models/recipes/score_plans.py",
        "overall": scores(groups.get("overall", {"records": 0, "exact": 0, "valid": 0, "args_ok": 0, "calls": 0, "full": 0})),
        "by_plan_length": {k: scores(v) for k, v in sorted(groups.items()) if k != "overall"},
        "mistakes": mistakes,
    }
    d = os.path.dirname(os.path.abspath(a.output))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(rep, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, a.output)
    o = rep["overall"]
    print(f"exact plan accuracy {100 * o['exact_plan_accuracy']:.1f}% of {o['records']}, "
          f"step validity {100 * o['step_validity']:.1f}%, arguments {100 * o['argument_accuracy']:.1f}%")


if __name__ == "__main__":
    main()
