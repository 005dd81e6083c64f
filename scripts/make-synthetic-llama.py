#!/usr/bin/env python3
"""Writes a Llama GGUF with random weights in real model shapes, for layer-streaming benchmarks
of models larger than memory (nothing that big can be downloaded here).

    scripts/make-synthetic-llama.py OUT.gguf [--shape 7b|13b|tiny] [--layers N] [--type q8_0|q4_0]

Default: Llama-2-7B shapes (hidden 4096, MLP 11008, 32 layers, 32 heads, vocab 32000) with Q8_0
weights: about 7.2 GB. The weights are random (uniform codes, scales giving a std near 0.02), so
the text it generates is noise; the cost of running it is the real model's. The tokenizer is a
placeholder SentencePiece vocabulary ("t0", "t1", ...). Written tensor by tensor (numpy only).
"""
import argparse
import os
import struct
import sys

import numpy as np

SHAPES = {
    "tiny": dict(hidden=256, ffn=704, layers=4, heads=8, kv_heads=8, vocab=32000),
    "7b": dict(hidden=4096, ffn=11008, layers=32, heads=32, kv_heads=32, vocab=32000),
    "13b": dict(hidden=5120, ffn=13824, layers=40, heads=40, kv_heads=40, vocab=32000),
}
GGML_F32, GGML_Q4_0, GGML_Q8_0 = 0, 2, 8
ALIGN = 32


def s(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return s(key) + struct.pack("<I", vtype) + payload


def u32(key, v):
    return kv(key, 4, struct.pack("<I", v))


def f32(key, v):
    return kv(key, 6, struct.pack("<f", v))


def string(key, v):
    return kv(key, 8, s(v))


def array(key, etype, items):
    return kv(key, 9, struct.pack("<IQ", etype, len(items)) + b"".join(items))


def block_bytes(qtype, n):
    return {GGML_F32: 4 * n, GGML_Q8_0: n // 32 * 34, GGML_Q4_0: n // 32 * 18}[qtype]


def random_blocks(rng, qtype, n, std=0.02):
    blocks = n // 32
    if qtype == GGML_Q8_0:   # f16 d, 32 int8 codes; uniform codes in [-127, 127] have std ~73
        out = np.empty(blocks, dtype=[("d", "<f2"), ("q", "i1", 32)])
        out["d"] = np.float16(std / 73.3)
        out["q"] = rng.integers(-127, 128, size=(blocks, 32), dtype=np.int8)
    else:                    # Q4_0: f16 d, 16 bytes of 4-bit codes (value = d * (q - 8)), std ~4.6
        out = np.empty(blocks, dtype=[("d", "<f2"), ("q", "u1", 16)])
        out["d"] = np.float16(std / 4.6)
        out["q"] = rng.integers(0, 256, size=(blocks, 16), dtype=np.uint8)
    return out.tobytes()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--shape", choices=SHAPES, default="7b")
    p.add_argument("--layers", type=int, help="override the layer count")
    p.add_argument("--type", choices=["q8_0", "q4_0"], default="q8_0")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    c = dict(SHAPES[a.shape])
    if a.layers:
        c["layers"] = a.layers
    qtype = GGML_Q8_0 if a.type == "q8_0" else GGML_Q4_0
    H, F, L, V = c["hidden"], c["ffn"], c["layers"], c["vocab"]
    head_dim = H // c["heads"]

    tensors = [("token_embd.weight", [H, V], qtype)]
    for l in range(L):
        b = f"blk.{l}."
        tensors += [(b + "attn_norm.weight", [H], GGML_F32), (b + "attn_q.weight", [H, H], qtype),
                    (b + "attn_k.weight", [H, c["kv_heads"] * head_dim], qtype),
                    (b + "attn_v.weight", [H, c["kv_heads"] * head_dim], qtype),
                    (b + "attn_output.weight", [H, H], qtype), (b + "ffn_norm.weight", [H], GGML_F32),
                    (b + "ffn_gate.weight", [H, F], qtype), (b + "ffn_up.weight", [H, F], qtype),
                    (b + "ffn_down.weight", [F, H], qtype)]
    tensors += [("output_norm.weight", [H], GGML_F32), ("output.weight", [H, V], qtype)]

    meta = [string("general.architecture", "llama"), string("general.name", f"synthetic-llama-{a.shape}"),
            u32("llama.context_length", 4096), u32("llama.embedding_length", H), u32("llama.block_count", L),
            u32("llama.feed_forward_length", F), u32("llama.attention.head_count", c["heads"]),
            u32("llama.attention.head_count_kv", c["kv_heads"]), u32("llama.rope.dimension_count", head_dim),
            f32("llama.attention.layer_norm_rms_epsilon", 1e-5), string("tokenizer.ggml.model", "llama"),
            array("tokenizer.ggml.tokens", 8, [s("<unk>"), s("<s>"), s("</s>")] + [s(f"t{i}") for i in range(3, V)]),
            array("tokenizer.ggml.scores", 6, [struct.pack("<f", -float(i)) for i in range(V)]),
            array("tokenizer.ggml.token_type", 5, [struct.pack("<i", 2 if i < 3 else 1) for i in range(V)]),
            u32("tokenizer.ggml.bos_token_id", 1), u32("tokenizer.ggml.eos_token_id", 2)]
    infos, offset = [], 0
    for name, dims, t in tensors:
        infos.append(s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
                     + struct.pack("<IQ", t, offset))
        n = int(np.prod(dims))
        offset += (block_bytes(t, n) + ALIGN - 1) // ALIGN * ALIGN
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta) + b"".join(infos)
    header += b"\0" * ((-len(header)) % ALIGN)
    total = len(header) + offset
    print(f"{a.out}: {a.shape} shapes, {L} layers, {a.type}: {total / 2**30:.2f} GiB", file=sys.stderr)

    rng = np.random.default_rng(a.seed)
    tmp = a.out + ".partial"
    with open(tmp, "wb") as f:
        f.write(header)
        for i, (name, dims, t) in enumerate(tensors):
            n = int(np.prod(dims))
            data = np.ones(n, dtype="<f4").tobytes() if t == GGML_F32 else random_blocks(rng, t, n)
            f.write(data + b"\0" * ((-len(data)) % ALIGN))
            if name.endswith("ffn_down.weight"):
                print(f"  layer {name.split('.')[1]} written", file=sys.stderr)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
