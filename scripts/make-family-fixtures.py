#!/usr/bin/env python3
"""Reference fixtures for every decoder family, recorded with Hugging Face transformers.

For each family this builds a tiny random model from a fixed seed (hidden 64, 2 layers, vocab 512),
saves it as a checkpoint folder (config.json + model.safetensors, float32) and records, for a fixed
24-token input: the logits of every position, the hidden states after each layer (last position),
and a 12-token greedy continuation (recomputed from scratch at every step, no cache).

Output: Tests/SwiftletModelsTests/Fixtures/hf/<name>/{config.json, model.safetensors, expected.json}.

Regenerate (not needed for CI; the fixtures are committed):
    python3 -m venv ~/.cache/swiftlet-hf
    ~/.cache/swiftlet-hf/bin/pip install torch transformers safetensors
    ~/.cache/swiftlet-hf/bin/python scripts/make-family-fixtures.py
"""
import json
import os
import sys

import torch
import transformers

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "SwiftletModelsTests", "Fixtures", "hf")
VOCAB, HIDDEN, LAYERS, INPUT_LEN, NEW_TOKENS = 512, 64, 2, 24, 12

BASE = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=128, num_hidden_layers=LAYERS,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0)

# name -> (model_type, extra config keys). Windows are shorter than the input so they matter.
FAMILIES = {
    "llama": ("llama", {}),
    "llama-rope-linear": ("llama", {"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}}),
    "llama-rope-llama3": ("llama", {"rope_parameters": {
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 32, "rope_theta": 500000.0}}),
    "llama-rope-yarn": ("llama", {"rope_parameters": {
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64, "rope_theta": 10000.0}}),
    "mistral": ("mistral", {"sliding_window": 8, "head_dim": 16}),
    "qwen2": ("qwen2", {"tie_word_embeddings": True}),
    "qwen3": ("qwen3", {"head_dim": 32}),
    "gemma3_text": ("gemma3_text", {"head_dim": 16, "sliding_window": 8, "layer_types": ["sliding_attention", "full_attention"],
                                    "query_pre_attn_scalar": 16, "tie_word_embeddings": True}),
    "phi3": ("phi3", {"num_key_value_heads": 2, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                                                      "partial_rotary_factor": 0.5}}),
    "mixtral": ("mixtral", {"intermediate_size": 64, "num_local_experts": 4, "num_experts_per_tok": 2}),
    "smollm3": ("smollm3", {"no_rope_layers": [1, 0], "tie_word_embeddings": True}),
}


def build(model_type, extra, seed):
    cfg = transformers.AutoConfig.for_model(model_type, **{**BASE, **extra})
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(cfg, dtype=torch.float32, attn_implementation="eager")
    # Weights large enough that the logits spread (transformers' 0.02 init makes them nearly flat).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:  # norm weights and biases
                if "norm" in name:
                    base = 0.0 if model_type == "gemma3_text" else 1.0
                    p.copy_(base + 0.1 * torch.randn_like(p))
                else:
                    p.copy_(0.1 * torch.randn_like(p))
            else:
                fan_in = p.shape[-1]
                scale = 1.0 if "embed" in name or "lm_head" in name else 1.5 / fan_in ** 0.5
                p.copy_(scale * torch.randn_like(p))
    model.eval()
    return model


def run(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_hidden_states=True)
    return out.logits[0], [h[0, -1] for h in out.hidden_states]


def greedy(model, ids):
    ids = list(ids)
    new = []
    margins = []
    for _ in range(NEW_TOKENS):
        logits, _ = run(model, ids)
        top = torch.topk(logits[-1], 2)
        margins.append(float(top.values[0] - top.values[1]))
        new.append(int(top.indices[0]))
        ids.append(new[-1])
    return new, min(margins)


# An end-to-end fixture: a Qwen 2 model with a real tokenizer.json (from the tokenizer fixtures),
# a tokenizer_config.json with a chat template, and transformers' own chat prompt ids and greedy tokens.
CHAT_TOKENIZER = os.path.join(os.path.dirname(__file__), "..", "Tests", "SwiftletTokenizersTests", "Fixtures", "hf", "qwen2")
CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
                 "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
CHAT_MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name three colours, please."}]


def make_chat_fixture():
    import shutil
    folder = os.path.join(OUT, "qwen2-chat")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(CHAT_TOKENIZER, "tokenizer.json"), folder)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "add_bos_token": False,
                   "chat_template": CHAT_TEMPLATE, "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=1)
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    vocab = len(tok)
    model = build("qwen2", {"vocab_size": vocab, "tie_word_embeddings": True}, seed=7)
    model.save_pretrained(folder, safe_serialization=True)
    path = os.path.join(folder, "generation_config.json")
    if os.path.exists(path):
        os.remove(path)
    prompt = tok.apply_chat_template(CHAT_MESSAGES, add_generation_prompt=True, tokenize=False)
    ids = tok(prompt, add_special_tokens=True)["input_ids"]
    continuation, margin = greedy(model, ids)
    expected = {"messages": CHAT_MESSAGES, "prompt": prompt, "prompt_ids": ids, "greedy": continuation,
                "greedy_min_margin": round(margin, 6), "vocab_size": vocab}
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(f"qwen2-chat           vocab {vocab}  prompt {len(ids)} tokens  greedy margin {margin:6.3f}")


def main():
    only = set(sys.argv[1:])
    g = torch.Generator().manual_seed(1234)
    ids = [int(x) for x in torch.randint(3, VOCAB, (INPUT_LEN,), generator=g)]
    for name, (model_type, extra) in FAMILIES.items():
        if only and name not in only:
            continue
        model = build(model_type, extra, seed=sum(map(ord, name)))
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        model.save_pretrained(folder, safe_serialization=True)
        for extra_file in ("generation_config.json",):
            path = os.path.join(folder, extra_file)
            if os.path.exists(path):
                os.remove(path)
        logits, hidden = run(model, ids)
        continuation, margin = greedy(model, ids)
        expected = {
            "model_type": model_type,
            "transformers": transformers.__version__,
            "input_ids": ids,
            "logits": [[round(float(v), 6) for v in row] for row in logits],
            "hidden_last": [[round(float(v), 6) for v in h] for h in hidden],
            "greedy": continuation,
            "greedy_min_margin": round(margin, 6),
        }
        with open(os.path.join(folder, "expected.json"), "w") as f:
            json.dump(expected, f, separators=(",", ":"))
        spread = float(logits.std())
        print(f"{name:20s} logit std {spread:7.3f}  greedy margin {margin:6.3f}  keys {len(model.state_dict())}")
    if not only or "qwen2-chat" in only:
        make_chat_fixture()


if __name__ == "__main__":
    main()
