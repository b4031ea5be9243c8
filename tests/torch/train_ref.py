#!/usr/bin/env python3
"""train_ref.py - the reference half of tests/test_train_torch.c.

Builds the model of an F32 GGUF file in PyTorch (the same math as octo's
training pass: RMSNorm, RoPE in either layout, causal grouped-query
attention with segment ids and a sliding window, SwiGLU/GeGLU, tied or
untied output, qwen2 biases, phi3's fused qkv and gate_up), runs the batch
the C test wrote, and writes back the loss and every gradient, or the
losses of N AdamW steps.

  train_ref.py MODEL.gguf BATCH.bin OUT.bin [--lora ADAPTER.gguf --alpha A]
               [--steps N --lr LR --wd WD --clip C]
  train_ref.py --jobs JOBS.txt      one job (the arguments above) per line,
                                    so the test pays for one interpreter start

The GGUF reader below is plain Python + numpy and reads F32 (and F16)
tensors, which is all the test writes.
"""
import math
import struct
import sys

import numpy as np
import torch

# ---- GGUF -----------------------------------------------------------------

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data, off=0):
        self.d, self.o = data, off

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.o)[0]
        self.o += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = bytes(self.d[self.o:self.o + n]).decode("utf-8", "replace")
        self.o += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(_SCALARS[t])


def read_gguf(path):
    data = memoryview(open(path, "rb").read())
    r = Reader(data)
    if bytes(data[:4]) != b"GGUF":
        raise ValueError(path + ": not a GGUF file")
    r.o = 4
    version, n_tensors, n_kv = r.take("<I"), r.take("<Q"), r.take("<Q")
    if version < 2:
        raise ValueError(path + ": GGUF version %d" % version)
    kv = {}
    for _ in range(n_kv):
        key = r.string()
        kv[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<Q") for _ in range(nd)]
        infos.append((name, ne, r.take("<I"), r.take("<Q")))
    align = kv.get("general.alignment", 32)
    base = (r.o + align - 1) // align * align
    tensors = {}
    for name, ne, typ, off in infos:
        n = int(np.prod(ne))
        if typ == 0:
            a = np.frombuffer(data, dtype="<f4", count=n, offset=base + off)
        elif typ == 1:
            a = np.frombuffer(data, dtype="<f2", count=n, offset=base + off).astype(np.float32)
        else:
            raise ValueError("%s: tensor %s has type %d; the reference reads F32 and F16 only" % (path, name, typ))
        tensors[name] = torch.tensor(a.reshape(list(reversed(ne))).copy())
    return kv, tensors


# ---- the model ------------------------------------------------------------


class Model:
    def __init__(self, kv, t):
        a = kv["general.architecture"]
        self.arch = a
        g = lambda k, d=None: kv.get(a + "." + k, d)
        self.d, self.n_layer, self.ff = g("embedding_length"), g("block_count"), g("feed_forward_length")
        self.nh = g("attention.head_count")
        self.nkv = g("attention.head_count_kv", self.nh)
        self.hd = g("attention.key_length", self.d // self.nh)
        self.hdv = g("attention.value_length", self.hd)
        self.n_rot = g("rope.dimension_count", self.hd)
        self.eps = np.float32(g("attention.layer_norm_rms_epsilon", 1e-5))
        self.base = g("rope.freq_base", 10000.0)
        self.freq_scale = 1.0 / g("rope.scaling.factor", 1.0)
        self.neox = a != "llama"
        self.swa = g("attention.sliding_window", 0) if a == "phi3" else 0
        self.gelu = a == "gemma"
        self.embd_scale = np.float32(math.sqrt(self.d)) if a == "gemma" else None
        self.t = t
        self.tied = "output.weight" not in t

    def rope_table(self, pos):
        """cos, sin [N][n_rot/2] as octo forms them: a running product in float32."""
        n_pairs = self.n_rot // 2
        theta_scale = np.float32(np.power(np.float32(self.base), np.float32(-2.0 / self.n_rot)))
        fs = np.float32(self.freq_scale)
        cos = np.zeros((len(pos), n_pairs), np.float32)
        sin = np.zeros_like(cos)
        for i, p in enumerate(pos):
            theta = np.float32(p)
            for k in range(n_pairs):
                ang = np.float32(fs * theta)
                cos[i, k], sin[i, k] = np.cos(ang), np.sin(ang)
                theta = np.float32(theta * theta_scale)
        return torch.tensor(cos), torch.tensor(sin)

    def rope(self, x, cos, sin):
        """x [N][heads][hd]"""
        np_ = self.n_rot // 2
        c, s = cos[:, None, :], sin[:, None, :]
        if self.neox:
            x0, x1 = x[..., :np_], x[..., np_:2 * np_]
            r = torch.cat([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1)
        else:
            x0, x1 = x[..., 0:2 * np_:2], x[..., 1:2 * np_:2]
            r = torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).flatten(-2)
        return torch.cat([r, x[..., 2 * np_:]], dim=-1)

    def rmsnorm(self, x, w):
        ms = (x.double() * x.double()).mean(-1, keepdim=True).float()
        return x * torch.rsqrt(ms + self.eps) * w

    def linear(self, x, name, lora, bias_name=None):
        y = x @ self.t[name].T
        if bias_name and bias_name in self.t:
            y = y + self.t[bias_name]
        if lora and name in lora["a"]:
            y = y + lora["scale"] * ((x @ lora["a"][name].T) @ lora["b"][name].T)
        return y

    def forward(self, tok, tgt, pos, seg, B, T, lora=None):
        t = self.t
        N = B * T
        x = t["token_embd.weight"][tok]
        if self.embd_scale is not None:
            x = x * self.embd_scale
        cos, sin = self.rope_table(pos.tolist())
        posr, segr = pos.view(B, T), seg.view(B, T)
        i_ = torch.arange(T)
        causal = i_[None, :] <= i_[:, None]
        mask = causal[None] & (segr[:, :, None] == segr[:, None, :])
        if self.swa > 0:
            mask = mask & ((posr[:, :, None] - posr[:, None, :]) < self.swa)
        qd, kd = self.nh * self.hd, self.nkv * self.hd
        for il in range(self.n_layer):
            p = "blk.%d." % il
            xn = self.rmsnorm(x, t[p + "attn_norm.weight"])
            if p + "attn_qkv.weight" in t:
                qkv = self.linear(xn, p + "attn_qkv.weight", lora)
                q, k, v = qkv[:, :qd], qkv[:, qd:qd + kd], qkv[:, qd + kd:]
            else:
                q = self.linear(xn, p + "attn_q.weight", lora, p + "attn_q.bias")
                k = self.linear(xn, p + "attn_k.weight", lora, p + "attn_k.bias")
                v = self.linear(xn, p + "attn_v.weight", lora, p + "attn_v.bias")
            q = self.rope(q.view(N, self.nh, self.hd), cos, sin)
            k = self.rope(k.view(N, self.nkv, self.hd), cos, sin)
            v = v.view(N, self.nkv, self.hdv)
            grp = self.nh // self.nkv
            q = q.view(B, T, self.nh, self.hd).transpose(1, 2)
            k = k.view(B, T, self.nkv, self.hd).transpose(1, 2).repeat_interleave(grp, dim=1)
            v = v.view(B, T, self.nkv, self.hdv).transpose(1, 2).repeat_interleave(grp, dim=1)
            s = (q @ k.transpose(-1, -2)) * np.float32(1.0 / math.sqrt(self.hd))
            s = s.masked_fill(~mask[:, None], float("-inf"))
            att = torch.softmax(s, dim=-1) @ v
            att = att.transpose(1, 2).reshape(N, self.nh * self.hdv)
            x = x + self.linear(att, p + "attn_output.weight", lora)
            xn = self.rmsnorm(x, t[p + "ffn_norm.weight"])
            if p + "ffn_gate.weight" in t:
                g = self.linear(xn, p + "ffn_gate.weight", lora)
                u = self.linear(xn, p + "ffn_up.weight", lora)
            else:
                gu = self.linear(xn, p + "ffn_up.weight", lora)
                g, u = gu[:, :self.ff], gu[:, self.ff:]
            act = torch.nn.functional.gelu(g, approximate="tanh") if self.gelu else torch.nn.functional.silu(g)
            x = x + self.linear(act * u, p + "ffn_down.weight", lora)
        xn = self.rmsnorm(x, t["output_norm.weight"])
        logits = xn @ (t["token_embd.weight"] if self.tied else t["output.weight"]).T
        return torch.nn.functional.cross_entropy(logits, tgt, ignore_index=-1, reduction="mean")


def main(argv):
    args = {"--lora": None, "--alpha": "0", "--steps": "0", "--lr": "1e-3", "--wd": "0", "--clip": "0"}
    pos_args = []
    i = 0
    while i < len(argv):
        if argv[i] in args:
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            pos_args.append(argv[i])
            i += 1
    model_path, batch_path, out_path = pos_args
    torch.set_num_threads(1)
    kv, t = read_gguf(model_path)
    m = Model(kv, t)
    raw = np.fromfile(batch_path, dtype="<i4")
    B, T = int(raw[0]), int(raw[1])
    N = B * T
    tok, tgt, pos, seg = [torch.tensor(raw[2 + j * N:2 + (j + 1) * N].astype(np.int64)) for j in range(4)]

    lora = None
    if args["--lora"]:
        _, lt = read_gguf(args["--lora"])
        lora = {"a": {}, "b": {}}
        for name, w in lt.items():
            base, kind = name.rsplit(".", 1)
            lora["a" if kind == "lora_a" else "b"][base] = w.clone().requires_grad_(True)
        rank = next(iter(lora["a"].values())).shape[0]
        lora["scale"] = np.float32(float(args["--alpha"]) / rank)
        params = [(n + ".lora_a", w, True) for n, w in lora["a"].items()] + \
                 [(n + ".lora_b", w, True) for n, w in lora["b"].items()]
    else:
        for w in t.values():
            w.requires_grad_(True)
        # decay as octo's parameters: 2-D weights yes, norms and biases no
        params = [(n, w, w.dim() == 2) for n, w in t.items()]

    out = open(out_path, "wb")
    steps = int(args["--steps"])
    if steps == 0:
        loss = m.forward(tok, tgt, pos, seg, B, T, lora)
        loss.backward()
        out.write(struct.pack("<d", loss.item()))
        for name, w, _ in params:
            g = w.grad.detach().numpy().astype("<f4").ravel()
            nb = name.encode()
            out.write(struct.pack("<I", len(nb)) + nb + struct.pack("<Q", g.size) + g.tobytes())
    else:
        wd = float(args["--wd"])
        groups = [{"params": [w for _, w, d in params if d], "weight_decay": wd},
                  {"params": [w for _, w, d in params if not d], "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=float(args["--lr"]), betas=(0.9, 0.999), eps=1e-8)
        clip = float(args["--clip"])
        for _ in range(steps):
            opt.zero_grad()
            loss = m.forward(tok, tgt, pos, seg, B, T, lora)
            loss.backward()
            if clip > 0:
                torch.nn.utils.clip_grad_norm_([w for _, w, _ in params], clip)
            opt.step()
            out.write(struct.pack("<d", loss.item()))
    out.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--jobs":
        for line in open(sys.argv[2]):
            if line.strip():
                main(line.split())
    else:
        main(sys.argv[1:])
