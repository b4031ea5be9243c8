#!/usr/bin/env python3
"""train_torch.py - the PyTorch CPU baseline for `octo train` (bench/train.sh).

The same model octo trains in the benchmark: a llama-layout decoder (RMSNorm,
rotary attention, SwiGLU MLP, untied output), planner-sized by default
(6 layers, n_embd 384, 6 heads, n_ff 1024, vocabulary 32000), full
fine-tuning in F32 with torch.optim.AdamW and clip_grad_norm_, batches of
4 x 256 tokens, on N threads. Prints tokens/s over the timed steps (after
warmup steps) and the MFU by the same formula octo prints:
6 x (parameters a forward multiplies per token) x tokens/s / 570e9.

usage: python3 bench/train_torch.py [--threads 2] [--steps 6] [--warmup 2]
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rope(x, cos, sin):
    # x [B, H, T, hd]: rotate adjacent pairs (llama's GGUF layout)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    y1 = x1 * cos - x2 * sin
    y2 = x1 * sin + x2 * cos
    return torch.stack((y1, y2), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, d, n_head, n_ff):
        super().__init__()
        self.n_head, self.hd = n_head, d // n_head
        self.attn_norm, self.ffn_norm = RMSNorm(d), RMSNorm(d)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.gate = nn.Linear(d, n_ff, bias=False)
        self.up = nn.Linear(d, n_ff, bias=False)
        self.down = nn.Linear(n_ff, d, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, d = x.shape
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        k = self.wk(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        v = self.wv(h).view(B, T, self.n_head, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        y = F.softmax(att, dim=-1) @ v
        x = x + self.wo(y.transpose(1, 2).reshape(B, T, d))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, vocab, d, n_layer, n_head, n_ff, T):
        super().__init__()
        self.embd = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, n_head, n_ff) for _ in range(n_layer))
        self.norm = RMSNorm(d)
        self.out = nn.Linear(d, vocab, bias=False)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
        hd = d // n_head
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.arange(T).float()[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos())
        self.register_buffer("sin", ang.sin())
        self.register_buffer("mask", torch.full((T, T), float("-inf")).triu(1))

    def forward(self, tokens, targets):
        x = self.embd(tokens)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        logits = self.out(self.norm(x))
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--n-embd", type=int, default=384)
    ap.add_argument("--n-layer", type=int, default=6)
    ap.add_argument("--n-head", type=int, default=6)
    ap.add_argument("--n-ff", type=int, default=1024)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B, T = a.batch, a.seq_len
    m = Model(a.vocab, a.n_embd, a.n_layer, a.n_head, a.n_ff, T)
    opt = torch.optim.AdamW(m.parameters(), lr=5e-6, weight_decay=0.0)
    data = torch.randint(0, a.vocab, (a.warmup + a.steps, B, T + 1))
    # parameters multiplied per token: every weight but the embedding table
    flops_params = sum(p.numel() for n, p in m.named_parameters() if p.dim() == 2 and not n.startswith("embd"))
    t0 = None
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            t0 = time.perf_counter()
        x, y = data[i, :, :-1], data[i, :, 1:]
        loss = m(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
    dt = time.perf_counter() - t0
    tok_s = a.steps * B * T / dt
    mfu = 6.0 * flops_params * tok_s / 570e9
    print(f"pytorch {torch.__version__}: {a.steps} steps of {B} x {T} tokens in {dt:.2f} s: "
          f"{tok_s:.1f} tok/s, MFU {100 * mfu:.1f}% (6 x {flops_params / 1e6:.2f}M params, "
          f"{a.threads} threads, loss {loss.item():.4f})")


if __name__ == "__main__":
    main()
