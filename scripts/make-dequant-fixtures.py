#!/usr/bin/env python3
"""Write Tests/SwiftletKernelsTests/Fixtures/dequant.json: quant blocks with the floats the `gguf` Python
package dequantizes them to, the independent oracle for Swiftlet's reference dequantize kernels.

Run from the repository root, with the venv that has `gguf` and numpy:
    ~/.cache/swiftlet-py/bin/python scripts/make-dequant-fixtures.py

Sources:
  - real blocks: the first blocks of the first tensor of each type in the two test models
    (SmolLM2-135M-Instruct.Q4_1.gguf: Q4_1, Q8_0, F32; gemma-3-270m-q4_k_m.gguf: Q8_0, Q5_0, Q4_K, Q6_K, F32);
  - synthesized blocks: gguf.quants.quantize of seeded random floats for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16, BF16;
  - random-byte blocks for Q4_K, Q5_K, Q6_K (gguf cannot quantize them): every scale/bit pattern, finite f16 scales.
Each case: {"name", "type" (ggml id), "raw" (base64 block bytes), "expected" (base64 little-endian float32)}.
"""
import base64, json, os, sys
import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
import gguf.quants as q

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.environ.get("SWIFTLET_MODELS", os.path.expanduser("~/.cache/swiftlet/models"))
OUT = os.path.join(ROOT, "Tests/SwiftletKernelsTests/Fixtures/dequant.json")

cases = []


def add(name, qtype, raw):
    raw = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1)
    expected = q.dequantize(raw, qtype).astype("<f4").reshape(-1)
    cases.append({"name": name, "type": int(qtype),
                  "raw": base64.b64encode(raw.tobytes()).decode(),
                  "expected": base64.b64encode(expected.tobytes()).decode()})


def from_model(path, elements=512):
    """The first `elements` weights (whole blocks) of the first tensor of each type in the model."""
    reader = gguf.GGUFReader(path)
    seen = set()
    for t in reader.tensors:
        if t.tensor_type in seen:
            continue
        seen.add(t.tensor_type)
        block, nbytes = gguf.GGML_QUANT_SIZES[t.tensor_type]
        raw = np.asarray(t.data).reshape(-1).view(np.uint8)   # row-major: the first blocks of row 0 onwards
        add(f"{os.path.basename(path)}:{t.name}", t.tensor_type, raw[: elements // block * nbytes])


for model in ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"]:
    path = os.path.join(MODELS, model)
    if not os.path.exists(path):
        sys.exit(f"missing {path}: run scripts/fetch-models all")
    from_model(path)

rng = np.random.default_rng(20261125)
for qtype in [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.BF16]:
    x = (rng.standard_normal(256) * rng.uniform(0.01, 3)).astype(np.float32)
    x[rng.integers(0, 256)] = 0.0
    add(f"synthetic:{qtype.name}", qtype, q.quantize(x.reshape(1, -1), qtype))
# F16: raw halves, including subnormals, infinities aside.
h = (rng.standard_normal(256) * 10).astype(np.float16)
h[:4] = np.array([6e-8, -6e-8, 65504, 0], dtype=np.float16)
add("synthetic:F16", T.F16, h.view(np.uint8))

# K-quants: random bytes, then finite f16 super-scales at their offsets.
for qtype, nblocks, f16_offsets in [(T.Q4_K, 2, [0, 2]), (T.Q5_K, 2, [0, 2]), (T.Q6_K, 2, [208])]:
    size = gguf.GGML_QUANT_SIZES[qtype][1]
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    for b in range(nblocks):
        for off in f16_offsets:
            raw[b, off:off + 2] = np.array([rng.uniform(-0.05, 0.05)], dtype=np.float16).view(np.uint8)
    add(f"random-bytes:{qtype.name}", qtype, raw)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"generator": "scripts/make-dequant-fixtures.py", "gguf": getattr(gguf, "__version__", "?"),
               "cases": cases}, f, indent=0)
print(f"wrote {OUT}: {len(cases)} cases, {os.path.getsize(OUT)} bytes")
