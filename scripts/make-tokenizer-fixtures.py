#!/usr/bin/env python3
"""Golden token ids for SwiftletTokenizersTests, produced by the llama.cpp peer.

Writes Tests/SwiftletTokenizersTests/Fixtures/golden.json: the test texts, and for each model the ids
llama.cpp gives them (no BOS; special-token texts parsed as special unless a case says otherwise), the
decoded text (llama_detokenize, specials not rendered), and the vocabulary facts the tests check
(bos, eos, eot, add_bos, the end-of-generation set).

Regenerate (after building the peer with /work/shared/peer/setup, and fetching the models with
scripts/fetch-models all):

    ~/.cache/swiftlet-peer/venv/bin/python scripts/make-tokenizer-fixtures.py

Models are looked up in $SWIFTLET_MODELS (default ~/.cache/swiftlet/models).

A larger, uncommitted stress run: `--fuzz N --out /tmp/fuzz.json` writes N random texts (random code
points from many scripts and categories, plus the pieces above) with their ids instead, and

    SWIFTLET_TOKENIZER_FUZZ=/tmp/fuzz.json swift test -c release --filter SwiftletTokenizersTests

checks them (the test is skipped when the variable is unset).
"""
import ctypes, json, os, random, struct, sys, tempfile

import llama_cpp
from llama_cpp import Llama

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "SwiftletTokenizersTests", "Fixtures", "golden.json")
MODELS_DIR = os.environ.get("SWIFTLET_MODELS", os.path.expanduser("~/.cache/swiftlet/models"))
MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}

# (name, text, parse_special)
CASES = [
    ("empty", "", True),
    ("prose", "The quick brown fox jumps over the lazy dog. It wasn't me, said the fox!", True),
    ("prose-long", "In 1869, Dmitri Mendeleev published the first widely recognized periodic table; "
                   "he left gaps for elements yet to be discovered (gallium, scandium, germanium).\n\n"
                   "Today, the table has 118 confirmed elements.", True),
    ("python", "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n"
               "print([fib(i) for i in range(10)])  # 0..34\n", True),
    ("swift", "struct Point: Equatable {\n\tvar x: Double\n\tvar y: Double\n}\n\nlet p = Point(x: 1.5, y: -2)\n"
              "guard p.x >= 0 else { fatalError(\"negative\") }\n", True),
    ("cjk", "日本語のテキストと中文文本，还有한국어 문장。", True),
    ("emoji", "Hello 👋🏽 family: 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 heart ❤️ 🤖!", True),
    ("combining", "Cafe\u0301 vs Caf\u00e9, n\u0303, \u1100\u1161\u11a8 (jamo) and \u1112\u1161\u11ab\u1100\u1173\u11af", True),
    ("spaces", "a  b   c    d\t\te \t f", True),
    ("newlines", "line one\n\n\nline two\r\n\r\nend\n", True),
    ("trailing-ws", "trailing spaces   ", True),
    ("only-ws", "  \t  ", True),
    ("many-newlines", "\n\n\n", True),
    ("leading-space", " leading space and  double", True),
    ("numbers", "1234567 and 3.14159, -42, 1,000,000 and 0x1F; ٣٤٥ and ½ ² Ⅻ", True),
    ("contractions", "I'm don't WE'LL they've she'd it's You'RE O'Neil's 'quoted'", True),
    ("punctuation", "Wait... what?! (yes) [no] {maybe} <tag> a->b && c || d; e::f @g #h $i %j ^k ~l `m`", True),
    ("mixed-scripts", "Привет мир! Γειά σου κόσμε. مرحبا بالعالم. שלום עולם. नमस्ते दुनिया", True),
    ("url", "See https://example.com/path?q=1&r=two#frag or mail me@example.org.", True),
    ("long-word", "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism", True),
    ("chatml", "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", True),
    ("chatml-unparsed", "<|im_start|>user\nhi<|im_end|>", False),
    ("gemma-turns", "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>", True),
    ("gemma-turns-unparsed", "<start_of_turn>user\nhi<end_of_turn>", False),
    ("bos-text", "<bos>Hello<eos> and <|endoftext|> and <unk>", True),
    ("html", "<table><tr><td>cell</td></tr></table> <b>bold</b> <h1>Title</h1>", True),
    ("tabs-code", "if x:\n\tif y:\n\t\tz()\n\t\t\t# deep\n", True),
    ("wide-indent", "x\n                                        y", True),
    ("unusual-ws", "a\u00a0b\u2003c\u3000d\u2028e\u0085f", True),
    ("control-chars", "bell\u0007 null\u0001 esc\u001b[0m del\u007f", True),
    ("private-and-rare", "\ue000 \U0001f9ec \U00010348 \u2603 \U0001d11e", True),
]


# The byte-level BPE pre-tokenizers the real models do not use are checked on SmolLM2's vocabulary
# with its tokenizer.ggml.pre replaced (a metadata-only copy of the GGUF): model key "smollm2@<pre>".
PRE_VARIANTS = ["gpt-2", "llama-bpe", "qwen2", "default"]

# Pieces the fuzz texts are made of: pre-tokenizer edge cases, scripts, whitespace, specials.
FUZZ_PIECES = [
    "a", "Z", "word", " the", "é", "e\u0301", "ß", "İ", "ﬁ", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "\r",
    "1", "23", "4567", "٣", "½", "Ⅻ", "'s", "'T", "'ll", "'Re", "'", "!", ".", "...", ",", "<", ">", "|", "$",
    "+=", "->", "_", "-", "(", ")", "日", "本語", "한", "👋", "🏽", "\u200d", "👨‍👩‍👧", "🇫🇷", "\u00a0", "\u3000",
    "\u0085", "\u2028", "\x07", "<|im_end|>", "<|im_start|>", "<end_of_turn>", "<start_of_turn>", "<b>", "<bos>",
    "\ue000", "\U00010348",
]


def fuzz_cases(n=60, seed=20261125):
    rng = random.Random(seed)
    return [(f"fuzz-{i}", "".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, 24))), True)
            for i in range(n)]


# Code point ranges the stress texts draw from (scripts, marks, numbers, symbols, whitespace, unassigned).
FUZZ_RANGES = [
    (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E), (0x09, 0x0D), (0xA0, 0x17F), (0x300, 0x36F), (0x370, 0x3FF),
    (0x400, 0x4FF), (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF),
    (0x2000, 0x206F), (0x2150, 0x218F), (0x2190, 0x23FF), (0x3000, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00),
    (0xE000, 0xE010), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF), (0x1F900, 0x1F9FF),
    (0x10000, 0x1034F), (0x0378, 0x0379), (0xFFF0, 0xFFFD), (0x1D400, 0x1D7FF), (0x0660, 0x0669),
]


def stress_cases(n, seed):
    rng = random.Random(seed)
    cases = []
    for i in range(n):
        parts = []
        for _ in range(rng.randint(1, 40)):
            r = rng.random()
            if r < 0.35:
                parts.append(rng.choice(FUZZ_PIECES))
            elif r < 0.45:
                parts.append(rng.choice([" ", "\t", "\n", "\u3000"]) * rng.randint(2, 70))
            else:
                lo, hi = rng.choice(FUZZ_RANGES)
                parts.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 6))))
        cases.append((f"stress-{i}", "".join(parts), rng.random() < 0.8))
    return cases


def gguf_metadata_copy(src, dst, replace):
    """Writes a GGUF with src's metadata (values in `replace` substituted, strings only) and no tensors."""
    with open(src, "rb") as f:
        data = f.read()
    magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", data, 0)
    assert magic == b"GGUF"
    off = 24
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def skip_value(t, off):
        if t in sizes:
            return off + sizes[t]
        if t == 8:
            (n,) = struct.unpack_from("<Q", data, off)
            return off + 8 + n
        assert t == 9
        et, n = struct.unpack_from("<IQ", data, off)
        off += 12
        if et in sizes:
            return off + n * sizes[et]
        for _ in range(n):
            off = skip_value(et, off)
        return off

    def enc_str(s):
        b = s.encode("utf-8")
        return struct.pack("<Q", len(b)) + b

    out = [struct.pack("<4sIQQ", b"GGUF", version, 0, n_kv)]
    for _ in range(n_kv):
        (klen,) = struct.unpack_from("<Q", data, off)
        key = data[off + 8: off + 8 + klen].decode()
        (t,) = struct.unpack_from("<I", data, off + 8 + klen)
        end = skip_value(t, off + 12 + klen)
        if key in replace:
            out.append(enc_str(key) + struct.pack("<I", 8) + enc_str(replace[key]))
        else:
            out.append(data[off:end])
        off = end
    blob = b"".join(out)
    blob += b"\0" * (-len(blob) % 32)
    with open(dst, "wb") as f:
        f.write(blob)


def tokenize_all(path, cases):
    llm = Llama(model_path=path, vocab_only=True, verbose=False)
    ids = [llm.tokenize(t.encode("utf-8"), add_bos=False, special=s) for _, t, s in cases]
    return llm, ids


def pieces_decode(llm, ids):
    arr = (llama_cpp.llama_token * max(len(ids), 1))(*ids)
    size = 1 << 16
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(llm._model.vocab, arr, len(ids), buf, size, False, False)
        if n >= 0:
            return buf.raw[:n].decode("utf-8", errors="replace")
        size = -n


def model_facts(llm):
    vocab = llm._model.vocab
    n = llama_cpp.llama_vocab_n_tokens(vocab)
    eog = [i for i in range(n) if llama_cpp.llama_vocab_is_eog(vocab, i)]
    def opt(x):
        return None if x < 0 else x
    return {
        "vocabulary_size": n,
        "bos": opt(llama_cpp.llama_vocab_bos(vocab)),
        "eos": opt(llama_cpp.llama_vocab_eos(vocab)),
        "eot": opt(llama_cpp.llama_vocab_eot(vocab)),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "eog": eog,
    }


def main():
    args = sys.argv[1:]
    out_path = OUT
    if args[:1] == ["--fuzz"]:
        cases = stress_cases(int(args[1]), seed=int(os.environ.get("SEED", "1")))
        out_path = args[args.index("--out") + 1]
    else:
        cases = CASES + fuzz_cases()
    out = {"cases": [{"name": n, "text": t, "parse_special": s} for n, t, s in cases], "models": {}}
    for key, file in MODELS.items():
        path = os.path.join(MODELS_DIR, file)
        if not os.path.exists(path):
            sys.exit(f"missing model {path}: run scripts/fetch-models all")
        llm, ids = tokenize_all(path, cases)
        decoded = [pieces_decode(llm, x) for x in ids]
        out["models"][key] = {"file": file, **model_facts(llm), "ids": ids, "decoded": decoded}
        print(f"{key}: {sum(map(len, ids))} tokens over {len(cases)} texts", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        for pre in PRE_VARIANTS:
            variant = os.path.join(tmp, f"smollm2-{pre}.gguf")
            gguf_metadata_copy(os.path.join(MODELS_DIR, MODELS["smollm2"]), variant, {"tokenizer.ggml.pre": pre})
            llm, ids = tokenize_all(variant, cases)
            key = f"smollm2@{pre}"
            out["models"][key] = {"file": MODELS["smollm2"], "pre": pre, **model_facts(llm), "ids": ids}
            print(f"{key}: {sum(map(len, ids))} tokens over {len(cases)} texts", file=sys.stderr)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
