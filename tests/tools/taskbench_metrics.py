#!/usr/bin/env python3
"""taskbench_metrics.py - an independent reference for octo's TaskBench metrics.

Re-derives, in Python, what TaskBench's evaluate.py (microsoft/JARVIS,
taskbench/, "temporal" dependency mode) computes for node, edge,
argument-name and argument-value F1 (per-sample set unions, micro counts as
scikit-learn's precision_recall_fscore_support gives them) and rouge_score's
ROUGE-1/2 without stemming (mean F over samples), on TaskBench daily-life
records and randomly perturbed predictions of them.

Writes into OUT: ref.jsonl and pred.jsonl (canonical records, links kept as
"task_links"), functions.json (the tool names as a function set), and
expected.json (the metrics with their counts). tests/test_eval.c scores the
same files with src/eval and compares.

usage: taskbench_metrics.py LABELED.jsonl TOOL_DESC.json OUT_DIR [SEED] [MAX_RECORDS]
"""
import json
import random
import re
import sys
from collections import Counter


def perturb(d, tools, rng):
    p = json.loads(json.dumps(d))
    nodes, links, steps = p["task_nodes"], p["task_links"], p["task_steps"]
    r = rng.random()
    if r < 0.15 and len(nodes) > 1:  # a call dropped
        k = rng.randrange(len(nodes))
        gone = nodes.pop(k)["task"]
        steps.pop(min(k, len(steps) - 1))
        links[:] = [l for l in links if l["source"] != gone and l["target"] != gone]
    elif r < 0.3:  # a call to another (maybe unknown) function
        k = rng.randrange(len(nodes))
        old, new = nodes[k]["task"], rng.choice(tools + ["made_up_tool"])
        nodes[k]["task"] = new
        for l in links:
            if l["source"] == old:
                l["source"] = new
            if l["target"] == old:
                l["target"] = new
    elif r < 0.45:  # argument values changed
        for n in nodes:
            for a in n["arguments"]:
                if rng.random() < 0.5 and isinstance(a["value"], str):
                    a["value"] += " x"
    elif r < 0.55:  # steps reworded and shuffled
        rng.shuffle(steps)
        steps[:] = [s.lower().replace("step", "") for s in steps]
    elif r < 0.65 and links:
        links.pop()
    elif r < 0.7:  # a call added
        nodes.append({"task": rng.choice(tools), "arguments": [{"name": "q", "value": "v"}]})
        steps.append("Extra step")
    return p


def flatten(gt, pred, types=None):
    g, p = [], []
    for sg, sp in zip(gt, pred):
        for s in set(sg) | set(sp):
            if types:
                if s in types:
                    g.append(types.index(s) + 1 if s in sg else 0)
                    p.append(types.index(s) + 1 if s in sp else 0)
                else:
                    g.append(0)
                    p.append(0)
            else:
                g.append(1 if s in sg else 0)
                p.append(1 if s in sp else 0)
    return g, p


def micro(g, p, labels):
    labels = set(labels)
    tp = sum(1 for a, b in zip(g, p) if a == b and a in labels)
    n_pred = sum(1 for b in p if b in labels)
    n_gold = sum(1 for a in g if a in labels)
    P = tp / n_pred if n_pred else 0.0
    R = tp / n_gold if n_gold else 0.0
    return {"f1": 2 * P * R / (P + R) if P + R else 0.0, "tp": tp, "predicted": n_pred, "gold": n_gold}


def tokens(t):
    t = re.sub(r"[^a-z0-9]+", " ", t.lower())
    return [x for x in re.split(r"\s+", t) if re.match(r"^[a-z0-9]+$", x)]


def rouge_n(pred, ref, n):
    a, b = tokens(pred), tokens(ref)
    ga = Counter(tuple(a[i:i + n]) for i in range(len(a) - n + 1))
    gb = Counter(tuple(b[i:i + n]) for i in range(len(b) - n + 1))
    ov = sum(min(c, gb[k]) for k, c in ga.items())
    P, R = ov / max(sum(ga.values()), 1), ov / max(sum(gb.values()), 1)
    return 2 * P * R / (P + R) if P + R else 0.0


def value_text(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def canonical(d):
    calls = [{"function": n["task"], "arguments": {a["name"]: a["value"] for a in n["arguments"]}}
             for n in d["task_nodes"]]
    # the whole step text rides in the first step; "-" pads the others (it has no tokens)
    steps = ["\n".join(d["task_steps"])] + ["-"] * (len(calls) - 1)
    return {"query": d["instruction"], "steps": steps, "calls": calls, "task_links": d["task_links"]}


def main():
    labeled, tool_desc, out = sys.argv[1:4]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 400
    rng = random.Random(seed)
    tools = [t["id"] for t in json.load(open(tool_desc))["nodes"]]
    labels = []
    for line in open(labeled):
        d = json.loads(line)
        names = [n["task"] for n in d["task_nodes"]]
        args_ok = all(len({a["name"] for a in n["arguments"]}) == len(n["arguments"]) for n in d["task_nodes"])
        if (d["task_nodes"] and d["task_steps"] and args_ok and len(set(names)) == len(names)
                and all("source" in l and "target" in l for l in d["task_links"])):
            labels.append(d)
        if len(labels) == limit:
            break
    preds = [perturb(d, tools, rng) for d in labels]

    names_g, names_p, an_g, an_p, av_g, av_p, ed_g, ed_p = ([] for _ in range(8))
    for L, P in zip(labels, preds):
        for src, nm, an, av, ed in ((L, names_g, an_g, av_g, ed_g), (P, names_p, an_p, av_p, ed_p)):
            nm.append([n["task"] for n in src["task_nodes"]])
            an.append([f"{n['task']}-{a['name']}" for n in src["task_nodes"] for a in n["arguments"]])
            av.append([f"{n['task']}-{a['name']}-{value_text(a['value'])}" for n in src["task_nodes"]
                       for a in n["arguments"]])
            ed.append([(l["source"], l["target"]) for l in src["task_links"]])
    expected = {
        "records": len(labels),
        "node": micro(*flatten(names_g, names_p, tools), range(1, len(tools) + 1)),
        "edge": micro(*flatten(ed_g, ed_p), [1]),
        "argument_name": micro(*flatten(an_g, an_p), [1]),
        "argument_value": micro(*flatten(av_g, av_p), [1]),
        "rouge1": sum(rouge_n("\n".join(P["task_steps"]), "\n".join(L["task_steps"]), 1)
                      for L, P in zip(labels, preds)) / len(labels),
        "rouge2": sum(rouge_n("\n".join(P["task_steps"]), "\n".join(L["task_steps"]), 2)
                      for L, P in zip(labels, preds)) / len(labels),
    }
    with open(f"{out}/ref.jsonl", "w") as f:
        f.writelines(json.dumps(canonical(d)) + "\n" for d in labels)
    with open(f"{out}/pred.jsonl", "w") as f:
        f.writelines(json.dumps(canonical(d)) + "\n" for d in preds)
    fs = [{"name": t, "description": t, "parameters": {"type": "object", "properties": {}}} for t in tools]
    with open(f"{out}/functions.json", "w") as f:
        json.dump({"name": "taskbench", "functions": fs}, f)
    with open(f"{out}/expected.json", "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
