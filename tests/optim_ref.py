#!/usr/bin/env python3
"""optim_ref.py - PyTorch's AdamW + clip_grad_norm_ on the problem
tests/test_optimizer.c writes, for an element-by-element comparison.

Input (binary, little-endian): int64 n_params, n_steps; per parameter
int64 n, int64 decay; per step float64 lr, float64 max_norm; then the
initial data of every parameter (f32), then for each step the gradients of
every parameter (f32). Hyperparameters in argv: beta1 beta2 eps wd.
Output: the final data of every parameter (f32) then the grad norm of
every step (f32), to the file in argv[2].
"""
import struct
import sys

import numpy as np
import torch

inp, out = sys.argv[1], sys.argv[2]
beta1, beta2, eps, wd = (float(x) for x in sys.argv[3:7])
buf = open(inp, "rb").read()
off = 0


def take(fmt):
    global off
    v = struct.unpack_from(fmt, buf, off)
    off += struct.calcsize(fmt)
    return v


n_params, n_steps = take("<qq")
shapes = [take("<qq") for _ in range(n_params)]
sched = [take("<dd") for _ in range(n_steps)]


def f32(n):
    global off
    a = np.frombuffer(buf, dtype="<f4", count=n, offset=off).copy()
    off += 4 * n
    return torch.from_numpy(a)


params = [torch.nn.Parameter(f32(n)) for n, _ in shapes]
groups = [{"params": [p for p, (_, d) in zip(params, shapes) if d], "weight_decay": wd},
          {"params": [p for p, (_, d) in zip(params, shapes) if not d], "weight_decay": 0.0}]
opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=1.0, betas=(beta1, beta2), eps=eps)
norms = []
for lr, max_norm in sched:
    for p, (n, _) in zip(params, shapes):
        p.grad = f32(n)
    if max_norm > 0:
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, max_norm)))
    else:
        norms.append(0.0)
    for g in opt.param_groups:
        g["lr"] = lr
    opt.step()
with open(out, "wb") as f:
    for p in params:
        f.write(p.detach().numpy().astype("<f4").tobytes())
    f.write(np.array(norms, dtype="<f4").tobytes())
