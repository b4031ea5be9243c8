#!/usr/bin/env python3
"""model_card.py - MODEL_CARD.md of a domain's planner and action models.

Filled only from what the recipe wrote: WORK/config.json (hyperparameters),
WORK/corpus/manifest.json (pretraining data), WORK/logs/*.jsonl (training
metrics), WORK/eval/*/report.json (scores) and the model files themselves
(`octo info`). A number that was not measured is written as "not measured",
never guessed.

usage: model_card.py --domain D --work WORK --dest DIR [--octo OCTO]
"""
import argparse
import json
import os
import re
import subprocess
import tempfile


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def metrics(path):
    try:
        rows = [json.loads(l) for l in open(path) if l.strip()]
    except (OSError, ValueError):
        return None
    if not rows:
        return None
    ev = [r["eval_loss"] for r in rows if "eval_loss" in r]
    return {
        "steps": rows[-1]["step"],
        "first_loss": rows[0]["loss"],
        "last_loss": rows[-1]["loss"],
        "eval_loss": ev[-1] if ev else None,
        "tokens": rows[-1].get("tokens"),
        "tok_s": rows[-1].get("tok_s"),
    }


def info(octo, path):
    try:
        out = subprocess.run([octo, "info", "-m", path], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    m = re.search(r"total: (\d+) parameters", out)
    t = re.search(r"general.file_type\s+u32\s+(\d+)", out)
    return {"params": int(m.group(1)) if m else None, "file_type": t.group(1) if t else None}


def pct(x):
    return "not measured" if x is None else f"{100 * x:.1f}%"


def f3(x):
    return "not measured" if x is None else f"{x:.3f}"


def score_rows(rep):
    if not rep:
        return ["| (not evaluated) | |"]
    o = rep["overall"]
    rows = [
        f"| records | {o.get('records', o.get('n', ''))} |",
        f"| exact plan accuracy | {pct(o.get('exact_plan_accuracy'))} |",
        f"| step validity | {pct(o.get('step_validity'))} |",
        f"| argument accuracy | {pct(o.get('argument_accuracy'))} |",
        f"| plan and arguments exact | {pct(o.get('plan_and_arguments_exact'))} |",
    ]
    for k, name in (("node", "node F1"), ("edge", "edge F1"), ("argument_value", "argument-value F1")):
        if isinstance(o.get(k), dict):
            rows.append(f"| {name} | {100 * o[k]['f1']:.2f} |")
    sp = rep.get("speed") or {}
    if sp.get("latency_p50_ms") is not None:
        rows.append(f"| latency p50 / p95 | {sp['latency_p50_ms']:.1f} / {sp.get('latency_p95_ms', 0):.1f} ms |")
    if sp.get("prompt_tokens_mean") is not None:
        rows.append(f"| planner prompt | {sp['prompt_tokens_mean']:.1f} tokens mean, {sp.get('prompt_tokens_max')} max |")
    if sp.get("tokens_per_s"):
        rows.append(f"| generation speed | {sp['tokens_per_s']:.0f} tokens/s |")
    if sp.get("peak_rss_kb"):
        rows.append(f"| peak RSS | {sp['peak_rss_kb'] / 1024:.1f} MiB |")
    rows.append(f"| scored by | {rep.get('scorer', 'octo eval')} |")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--domain", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--dest", required=True)
    ap.add_argument("--octo", default="octo")
    a = ap.parse_args()
    d, w = a.domain, a.work
    cfg = load(os.path.join(w, "config.json")) or {}
    man = load(os.path.join(w, "corpus/manifest.json")) or {}
    pre = metrics(os.path.join(w, "logs/pretrain.jsonl"))
    L = []
    L += [f"# octo default models: {d}", ""]
    L += [f"`planner.gguf` splits a {d} request into 1-5 steps; `action.gguf` turns each step into one call",
          f"of the `{d}` function set (`functions/{d}.json`). Run them with",
          "", "```sh", f"octo run --domain {d} \"...\"", "```", ""]
    warm = cfg.get("WARM_FROM", "")
    desc = cfg.get("WARM_DESC") or warm
    kinds = cfg.get("KINDS", "planner action").split()
    recipe = ("`" + ("WARM_FROM=DIR " if warm else "") + ("" if kinds == ["planner", "action"] else
              f"KINDS=\"{' '.join(kinds)}\" FT_EPOCHS={cfg.get('FT_EPOCHS')} ") + "MODE=" + cfg.get("MODE", "full") +
              " models/train_defaults.sh`")
    L += ["Both are llama-architecture GGUF files (llama.cpp loads them too), " +
          (f"made with octo alone on one CPU: the fine-tuning below continues from {desc} (their own card "
           "gives their pretraining and first fine-tuning). Reproduced by " + recipe +
           " with those models in DIR/DOMAIN/" if warm else
           "trained from scratch with octo alone on one CPU, and reproduced by " + recipe) +
          " (same data, seeds and settings: same files).", ""]
    L += ["## Models", "", "| model | parameters | type | file size | fine-tuning steps | train loss (first -> last) | eval loss |",
          "| --- | --- | --- | --- | --- | --- | --- |"]
    for k in ("planner", "action"):
        p = os.path.join(a.dest, k + ".gguf")
        inf = info(a.octo, p)
        m = metrics(os.path.join(w, f"logs/{d}.{k}.jsonl")) or {}
        size = f"{os.path.getsize(p) / 1e6:.1f} MB" if os.path.exists(p) else "missing"
        if k not in kinds:
            L.append(f"| {k} | {inf.get('params') or 'n/a'} | {cfg.get('QTYPE', '?')} | {size} | "
                     f"none here: {desc}, unchanged | | |")
            continue
        L.append(f"| {k} | {inf.get('params') or 'n/a'} | {cfg.get('QTYPE', '?')} | {size} | {m.get('steps', 'n/a')} | "
                 f"{f3(m.get('first_loss'))} -> {f3(m.get('last_loss'))} | {f3(m.get('eval_loss'))} |")
    L += ["", "## Architecture and hyperparameters", ""]
    L += [f"- base: llama, {cfg.get('N_LAYER')} layers x {cfg.get('N_EMBD')}, {cfg.get('N_HEAD')} heads "
          f"({cfg.get('N_HEAD_KV')} KV), feed-forward {cfg.get('N_FF')}, context {cfg.get('CTX')}, "
          f"byte-level BPE vocabulary of {cfg.get('VOCAB')} tokens with the chat markup, `<nexa_split>`, "
          "`<nexa_end>` and one `<fn_NAME>` token per function of every shipped set",
          (f"- start: {desc} (no new pretraining)" if warm else
           f"- pretraining: {cfg.get('PRE_STEPS')} steps of {cfg.get('PRE_BATCH')} x {cfg.get('PRE_SEQ')} tokens, "
           f"lr {cfg.get('PRE_LR')} cosine to a tenth, warmup {cfg.get('PRE_WARMUP')}, AdamW weight decay 0.1"),
          f"- fine-tuning (full, {' and '.join(kinds)}): {cfg.get('FT_EPOCHS')} epochs, batch {cfg.get('FT_BATCH')} rows x "
          f"{cfg.get('FT_SEQ')} tokens (packed), lr {cfg.get('FT_LR')} cosine, warmup {cfg.get('FT_WARMUP')}, "
          "loss on the assistant turns only, chat template `octo`",
          f"- seed {cfg.get('SEED')}; quantized to {cfg.get('QTYPE')} (`octo quantize`)"]
    if pre:
        L.append(f"- pretraining loss {f3(pre['first_loss'])} -> {f3(pre['last_loss'])}, eval loss "
                 f"{f3(pre['eval_loss'])} on held-out corpus text; {pre['tokens']} tokens at {pre['tok_s']} tokens/s")
    L += ["", "## Data", ""]
    if man:
        c = man.get("corpus", {})
        L.append(f"- pretraining corpus: {c.get('bytes', 0) / 1e6:.1f} MB, {c.get('documents')} documents "
                 f"(sha256 {c.get('sha256', '')[:16]}...): " +
                 ", ".join(f"{k} {v['bytes'] / 1e6:.1f} MB" for k, v in man.get("sources", {}).items()) +
                 " (models/corpus/README.md)")
    L.append(f"- fine-tuning: {cfg.get('N_GEN')} records from `octo data gen --functions {d} --holdout train"
             f" --open-values {cfg.get('OPEN_VALUES', 0)} --observations {cfg.get('OBSERVATIONS', 0)}`"
             + (f", plus the TaskBench daily-life labeled records outside the dev split ({cfg.get('TB_DEV')} of "
                f"labeled.jsonl, kept out), repeated {cfg.get('TB_REPEAT')} times" if d == "dailylife" else ""))
    L.append(f"- test: {cfg.get('N_TEST')} records from `octo data gen --holdout test` (other seeds, held-out "
             "phrasings and values)" + ("; and the TaskBench dev split" if d == "dailylife" else ""))
    L += ["", "## Scores (data the models were not trained on)", ""]
    tests = [("held-out generated requests", f"{d}.test")]
    if d == "dailylife":
        tests.append(("TaskBench daily-life dev split", f"{d}.taskbench-dev"))
    for title, key in tests:
        L += [f"### {title}", "", "| metric | value |", "| --- | --- |"]
        L += score_rows(load(os.path.join(w, "eval", key, "report.json")))
        L.append("")
    L += ["## Limits", "",
          "- Plans first, then acts: no re-planning when a call fails (the paper's limitation).",
          "- Small models trained on generated and benchmark requests: phrasings far from those may fail;",
          "  the scores above are on held-out data of the same kinds.", ""]
    os.makedirs(a.dest, exist_ok=True)
    out = os.path.join(a.dest, "MODEL_CARD.md")
    fd, tmp = tempfile.mkstemp(dir=a.dest, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(L))
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)  # mkstemp makes it private; a card is for everyone
    os.rename(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
