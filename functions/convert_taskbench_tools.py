#!/usr/bin/env python3
"""convert_taskbench_tools.py - make functions/dailylife.json from TaskBench's
Daily Life APIs tool_desc.json (the 40 tools), in octo's function-set format.

    python3 functions/convert_taskbench_tools.py [TOOL_DESC] [-o OUT]

Defaults: ../shared/data/taskbench-dailylife/tool_desc.json -> functions/dailylife.json.
TaskBench types map to JSON Schema types: "string" stays a string; "date"
and "time" become strings whose description says what they hold (TaskBench
writes them as free text: "2023-05-01", "tomorrow", "7am"); numbers, integers
and booleans map to themselves. Every parameter is required, as TaskBench
uses them: each call of a tool gives all its parameters. The output is
written atomically (temp file, then rename) and is deterministic.
"""
import argparse
import json
import os
import sys
import tempfile

TYPE_MAP = {
    "string": ("string", None),
    "str": ("string", None),
    "text": ("string", None),
    "date": ("string", "a date, written as in the request, e.g. 2023-05-01, May 1st, tomorrow"),
    "time": ("string", "a time of day, written as in the request, e.g. 07:30, 7am"),
    "datetime": ("string", "a date and time, written as in the request"),
    "integer": ("integer", None),
    "int": ("integer", None),
    "number": ("number", None),
    "float": ("number", None),
    "boolean": ("boolean", None),
    "bool": ("boolean", None),
}


def convert(tools):
    nodes = tools["nodes"] if isinstance(tools, dict) else tools
    out, seen = [], set()
    for i, t in enumerate(nodes):
        name = t.get("id") or t.get("name")
        if not isinstance(name, str) or not name:
            sys.exit(f"tool {i}: no id")
        if name in seen:
            sys.exit(f"tool {i}: {name} defined twice")
        seen.add(name)
        props, required = {}, []
        for k, p in enumerate(t.get("parameters", [])):
            pname, ptype = p.get("name"), str(p.get("type", "string")).lower()
            if not isinstance(pname, str) or not pname:
                sys.exit(f"tool {name}: parameter {k} has no name")
            if ptype not in TYPE_MAP:
                sys.exit(f"tool {name}: parameter {pname}: unknown type {ptype!r}")
            jtype, note = TYPE_MAP[ptype]
            desc = (p.get("desc") or p.get("description") or "").strip()
            if note:
                desc = f"{desc}: {note}" if desc else note[0].upper() + note[1:]
            props[pname] = {"type": jtype, "description": desc}
            required.append(pname)
        out.append({
            "name": name,
            "description": (t.get("desc") or t.get("description") or "").strip(),
            "parameters": {"type": "object", "properties": props, "required": required},
        })
    return {
        "name": "dailylife",
        "description": "TaskBench's Daily Life APIs: 40 everyday tools (weather, news, stocks, travel, "
                       "shopping, messages, calls, documents, banking, appointments, media). Converted from "
                       "TaskBench's tool_desc.json (MIT License, Copyright (c) Microsoft Corporation) by "
                       "functions/convert_taskbench_tools.py.",
        "functions": out,
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tool_desc", nargs="?",
                    default=os.path.join(here, "..", "..", "shared", "data", "taskbench-dailylife", "tool_desc.json"))
    ap.add_argument("-o", "--output", default=os.path.join(here, "dailylife.json"))
    a = ap.parse_args()
    with open(a.tool_desc, encoding="utf-8") as f:
        fs = convert(json.load(f))
    text = json.dumps(fs, indent=2, ensure_ascii=False) + "\n"
    d = os.path.dirname(os.path.abspath(a.output))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".dailylife.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, a.output)
    print(f"{a.output}: {len(fs['functions'])} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
