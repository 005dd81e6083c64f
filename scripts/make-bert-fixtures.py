"""Records what transformers says about BERT sentence embeddings, as test fixtures.

Writes into Tests/SwiftletModelsTests/Fixtures/:
  bert-minilm.json  for 9 varied sentences (the last truncated to the model's 512 positions), all-MiniLM-L6-v2's token ids (with [CLS]/[SEP]) and
                    its sentence embedding: mean of the last hidden states over the tokens, L2
                    normalized (sentence-transformers' Transformer -> Pooling(mean) -> Normalize);
                    plus the first values of every layer's hidden states for the first sentence.
  bert-tiny/        a tiny random BertModel (hidden 32, 2 layers, 4 heads, intermediate 64,
                    vocab 100; fixed seed) saved with save_pretrained (config.json +
                    model.safetensors, pooler included) and expected.json with its last hidden
                    states and mean-pooled normalized embeddings for a few id sequences.

Run with the transformers venv:
    HF_HUB_OFFLINE=1 ~/.cache/swiftlet-hf/bin/python scripts/make-bert-fixtures.py
The real model comes from scripts/fetch-models minilm.
"""
import json, os
os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "Tests", "SwiftletModelsTests", "Fixtures")
MODELS = os.environ.get("SWIFTLET_MODELS", os.path.expanduser("~/.cache/swiftlet/models"))
MINILM = os.path.join(MODELS, "all-MiniLM-L6-v2")

SENTENCES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "A man is playing a guitar on the street, while a small crowd gathers to listen.",
    "Wait... what?! No way -- that's (almost) impossible; isn't it? #surprised @you 100%",
    "Café déjà vu: naïve façades in São Paulo, Zürich & Kraków. 東京は日本の首都です。 Привет, мир! 🙂",
    "x",
    "def fibonacci(n): return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
    # about 100 words
    "Sentence embeddings map a piece of text to a single vector so that texts with similar meanings "
    "end up close together. They are used for semantic search, clustering, deduplication and "
    "retrieval-augmented generation. A small encoder such as MiniLM reads the whole sentence at once, "
    "with every token attending to every other token, and the final hidden states are averaged over "
    "the tokens to give one fixed-size vector. That vector is then scaled to unit length, so the cosine "
    "similarity of two sentences is simply the dot product of their embeddings. Because the model is "
    "tiny, it runs quickly even on a laptop processor without any special hardware at all.",
]


# The ~100-word paragraph repeated past the 512 positions; the tokenizer truncates it to exactly 512.
MAX_LENGTH_TEXT = " ".join([SENTENCES[-1]] * 5)


def r7(values):
    return [float(f"{v:.7g}") for v in values]


def sentence_embedding(hidden, mask):
    """sentence-transformers' mean pooling (mask-aware) followed by L2 normalization."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean, p=2, dim=1)


def minilm():
    tok = AutoTokenizer.from_pretrained(MINILM)
    model = AutoModel.from_pretrained(MINILM).eval()
    items = []
    layers = None
    with torch.no_grad():
        for i, s in enumerate(SENTENCES + [MAX_LENGTH_TEXT]):
            enc = tok(s, return_tensors="pt", truncation=True, max_length=512)
            out = model(**enc, output_hidden_states=True)
            emb = sentence_embedding(out.last_hidden_state, enc["attention_mask"])[0]
            items.append({"text": s, "ids": enc["input_ids"][0].tolist(), "embedding": r7(emb.tolist())})
            if i == 1:
                # hidden_states[0] is the embedding LayerNorm's output, [l + 1] layer l's output.
                layers = {"sentence": 1, "values": [r7(h[0, :, :8].flatten().tolist()) for h in out.hidden_states],
                          "note": "per hidden state (embeddings, then each layer): the first 8 values of every token"}
        # Batched with padding must agree with one at a time (sanity check of the pooling above).
        enc = tok(SENTENCES + [MAX_LENGTH_TEXT], return_tensors="pt", padding=True, truncation=True, max_length=512)
        batch = sentence_embedding(model(**enc).last_hidden_state, enc["attention_mask"])
        for item, row in zip(items, batch):
            cos = float(torch.dot(torch.tensor(item["embedding"]), row))
            assert cos > 0.99999, f"batched and single embeddings disagree: {cos}"
    path = os.path.join(FIX, "bert-minilm.json")
    with open(path, "w") as f:
        json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2", "sentences": items, "hidden_states": layers}, f)
    print(path, os.path.getsize(path), "bytes,", [len(it["ids"]) for it in items], "tokens")


def tiny():
    torch.manual_seed(1234)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
                        hidden_act="gelu", layer_norm_eps=1e-12)
    model = BertModel(config).eval()
    # Default init (std 0.02, LayerNorm 1/0) would leave the output mostly the norms' doing:
    # draw every parameter so that each op visibly matters.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.copy_(1 + 0.3 * torch.randn_like(p))
            elif name.endswith("bias") or "LayerNorm" in name:
                p.copy_(0.2 * torch.randn_like(p))
            elif "embeddings" in name:
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / p.shape[1] ** 0.5)
    out_dir = os.path.join(FIX, "bert-tiny")
    model.save_pretrained(out_dir, safe_serialization=True)
    g = torch.Generator().manual_seed(7)
    cases = [[2, 17, 5, 3], [2, 3], [1] + torch.randint(0, 100, (40,), generator=g).tolist() + [3], [99, 0, 64]]
    items = []
    with torch.no_grad():
        for ids in cases:
            t = torch.tensor([ids])
            hidden = model(input_ids=t).last_hidden_state
            emb = sentence_embedding(hidden, torch.ones_like(t))[0]
            items.append({"ids": ids, "last_hidden_state": r7(hidden[0].flatten().tolist()), "embedding": r7(emb.tolist())})
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump({"seed": 1234, "cases": items}, f)
    for name in os.listdir(out_dir):
        print(os.path.join(out_dir, name), os.path.getsize(os.path.join(out_dir, name)), "bytes")


if __name__ == "__main__":
    tiny()
    minilm()
