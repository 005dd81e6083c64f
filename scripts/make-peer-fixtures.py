"""Records what the llama.cpp peer says about the two real models, as test fixtures.

Writes Tests/SwiftletModelsTests/Fixtures/peer-<model>.json with, for each prompt, the greedy
continuation (64 tokens, ids and the margin between the peer's best and second-best logit at each
step), and the perplexity at --ctx 512 of english.txt and code.txt (beside the output).
It also records the peer's greedy tokens with flash attention on ("flash_attn_tokens"): llama.cpp's
own disagreement with itself when only its attention kernel changes, which bounds what "a near
tie" means in the agreement test.

Run with the peer's venv (built by ../shared/peer/setup):
    ~/.cache/swiftlet-peer/venv/bin/python scripts/make-peer-fixtures.py
Models come from scripts/fetch-models all. Conventions follow ../shared/peer/llamacpp.py.
"""
import json, math, os, sys
import numpy as np
from llama_cpp import Llama

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "Tests", "SwiftletModelsTests", "Fixtures")
MODELS = os.environ.get("SWIFTLET_MODELS", os.path.expanduser("~/.cache/swiftlet/models"))

RAW = [
    "The capital of France is",
    "def fibonacci(n):\n",
    "Once upon a time, in a small village,",
    "Translate to French: Hello, how are you?",
    "日本の首都は",
    "List three colors:\n1.",
    "import numpy as np\nx = np.array([1, 2, 3])\nprint(",
    "The theory of relativity states that",
]
CHAT = ["What is 2+2?", "Write a haiku about the sea."]
TEMPLATES = {
    "smollm2": "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n",
    "gemma3": "<start_of_turn>user\n{}<end_of_turn>\n<start_of_turn>model\n",
}
FILES = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma-3-270m-q4_k_m.gguf"}
BOS = {"smollm2": False, "gemma3": True}


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - m - math.log(np.exp(row - m).sum())


def load(fname, flash_attn=False):
    return Llama(model_path=os.path.join(MODELS, fname), n_ctx=2048, n_threads=2, n_threads_batch=2,
                 n_batch=2048, logits_all=True, verbose=False, seed=0, flash_attn=flash_attn)


def run_greedy(llm, toks):
    llm.reset()
    llm.eval(toks)
    out, margins = [], []
    for _ in range(64):
        row = np.asarray(llm.scores[llm.n_tokens - 1])
        top2 = np.sort(row)[-2:]
        tok = int(np.argmax(row))
        if tok == llm.token_eos():
            break
        out.append(tok)
        margins.append(round(float(top2[1] - top2[0]), 4))
        llm.eval([tok])
    return out, margins


def main():
    for name, fname in FILES.items():
        llm = load(fname)
        prompts = RAW + [TEMPLATES[name].format(c) for c in CHAT]
        greedy = []
        for text in prompts:
            toks = llm.tokenize(text.encode("utf-8"), add_bos=BOS[name], special=True)
            out, margins = run_greedy(llm, toks)
            greedy.append({"prompt": text, "bos": BOS[name], "prompt_tokens": toks, "tokens": out, "margins": margins})
            print(name, repr(text[:30]), len(out), file=sys.stderr)
        fa = load(fname, flash_attn=True)
        for g in greedy:
            g["flash_attn_tokens"] = run_greedy(fa, g["prompt_tokens"])[0]
        del fa
        ppl = {}
        for fn in ["english.txt", "code.txt"]:
            toks = llm.tokenize(open(os.path.join(FIX, fn), encoding="utf-8").read().encode("utf-8"), add_bos=False, special=True)
            nll, count = 0.0, 0
            for start in range(0, len(toks) - 1, 512):
                window = toks[start:start + 512]
                if len(window) < 2:
                    break
                llm.reset()
                llm.eval(window)
                for i in range(1, len(window)):
                    nll -= log_softmax(np.asarray(llm.scores[i - 1]))[window[i]]
                    count += 1
            ppl[fn] = {"tokens_scored": count, "perplexity": math.exp(nll / count)}
            print(name, fn, ppl[fn], file=sys.stderr)
        with open(os.path.join(FIX, f"peer-{name}.json"), "w") as f:
            json.dump({"model": fname, "greedy": greedy, "perplexity": ppl}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
