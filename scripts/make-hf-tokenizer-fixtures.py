#!/usr/bin/env python3
"""Golden fixtures for the Hugging Face tokenizer.json loader (HFTokenizerTests).

Trains small tokenizers with the `tokenizers` library, one per family style, from the fixed corpus
below, and records what `tokenizers` itself gives for the test texts:

  Tests/SwiftletTokenizersTests/Fixtures/hf/<style>/tokenizer.json   (+ tokenizer_config.json,
                                                                       chat_template.jinja for some)
  Tests/SwiftletTokenizersTests/Fixtures/hf/expected.json            the texts, and per style:
      ids          tok.encode(text, add_special_tokens=False).ids   (special-token texts parsed
                   unless the case says parse_special false: tok.encode_special_tokens = True)
      ids_special  tok.encode(text).ids                             (post-processor tokens added)
      decoded      tok.decode(ids)                                  (skip_special_tokens=True)
      decoded_special  tok.decode(ids_special)
      vocabulary_size  tok.get_vocab_size(with_added_tokens=True)

Styles: gpt2 (ByteLevel regex, merges as "a b" strings, a single_word added token), qwen2 (NFC +
Split with Qwen 2's regex + ByteLevel, ChatML specials, non-special <think>, </think> with rstrip), llama3 (Split with the
Llama 3 regex, ignore_merges, Sequence[ByteLevel, TemplateProcessing <|begin_of_text|> $A]), roberta
(ByteLevel add_prefix_space, RobertaProcessing, <mask> with lstrip), llama2 (Prepend/Replace
normalizer, byte_fallback, fuse_unk, a normalized non-special added token), mistral (the older
Metaspace pre-tokenizer, prepend_scheme first), metaspace-always (Metaspace always + split), gemma
(Replace normalizer only), sentencepiece-unk (mistral without byte_fallback: fused <unk>), bert (a
trained WordPiece with BertProcessing). Also the real
all-MiniLM-L6-v2 tokenizer.json (scripts/fetch-models minilm), whose ids only are committed (key
"minilm"; the Swift test reads the model folder).

Regenerate:

    python3 -m venv ~/.cache/swiftlet-tok && ~/.cache/swiftlet-tok/bin/pip install tokenizers
    ~/.cache/swiftlet-tok/bin/python scripts/make-hf-tokenizer-fixtures.py

Models are looked up in $SWIFTLET_MODELS (default ~/.cache/swiftlet/models). The `tokenizers` trainer breaks
ties in hash-map order, so each run gives slightly different vocabularies: commit the tokenizer.json files
and expected.json of one run together.
"""
import json, os, shutil, sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "Tests", "SwiftletTokenizersTests", "Fixtures")
OUT = os.path.join(TESTS, "hf")
MODELS_DIR = os.environ.get("SWIFTLET_MODELS", os.path.expanduser("~/.cache/swiftlet/models"))

QWEN2_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

CORPUS = """
The quick brown fox jumps over the lazy dog. The foxes were quick, and the dogs were lazy.
It wasn't me, said the fox! I'm sure they'll say we've done what you'd expect.
In 1869, Dmitri Mendeleev published the first widely recognized periodic table of the elements.
Machine learning models turn text into tokens, and tokens into numbers: 1, 22, 333, 4444, 55555.
def tokenize(text):
    words = text.split()
    return [w.lower() for w in words if w]

struct Point: Equatable {
    var x: Double
    var y: Double
}
let p = Point(x: 1.5, y: -2)
for i in range(10):
    print(f"value {i}: {i * i}")
The weather today is sunny with a chance of rain in the afternoon; temperatures near 21 degrees.
She sells sea shells by the sea shore. Peter Piper picked a peck of pickled peppers.
Hello world! Hello there. Hello again, my old friend.
Café au lait, crème brûlée, naïve façade, jalapeño, Zürich, São Paulo, Kraków.
Привет мир! Как дела? Γειά σου κόσμε. مرحبا بالعالم.
日本語のテキストと中文文本，还有한국어 문장。東京は日本の首都です。
<html><body><p>Paragraph with <b>bold</b> and <i>italic</i> text.</p></body></html>
SELECT name, count(*) FROM users WHERE age > 30 GROUP BY name ORDER BY count DESC;
https://example.com/path?query=value&other=thing#section
Numbers like 3.14159, 2.71828 and 1,000,000 appear often; so do dates like 2024-01-15.
A user asks a question and the assistant gives a helpful answer.
The system prompt says: you are a helpful assistant. The user says: hi there!
"""


def golden_texts():
    with open(os.path.join(TESTS, "golden.json")) as f:
        g = json.load(f)
    # The first dozen random cases are enough here; the GGUF tests run them all.
    keep = [c for c in g["cases"] if not c["name"].startswith("fuzz-") or int(c["name"][5:]) < 12]
    return [(c["name"], c["text"], c["parse_special"]) for c in keep]


EXTRA_TEXTS = [
    ("mask-spaced", "Hello <mask> world", True),
    ("mask-tight", "Hello<mask>world  <mask>  end", True),
    ("think", "<think>reasoning here</think> The answer is 4.", True),
    ("single-word", "The fox and the foxes: fox, xfox fox_y fox", True),
    ("extra-normalized", "hello <extra> there<extra>x", True),
    ("bert-specials", "[CLS] hello [SEP] [MASK] [UNK] [PAD]x", True),
    ("accents", "Héllo WÖRLD Ünïcödé ÅÇÉ İstanbul ﬁne Straße", True),
    ("snake", "under_score snake_case CamelCase don't", True),
    ("llama-turns", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>", True),
    ("sentencepiece-specials", "<s>hello</s> <unk> and <s> again", True),
    ("leading-special", "<|im_start|> spaced", True),
    ("cjk-bert", "中文字符和English混合123", True),
]


def corpus_lines():
    lines = [l for l in CORPUS.splitlines() if l.strip()]
    lines += [t for _, t, _ in golden_texts() if t.strip()]
    return lines * 3


def byte_level_bpe(name, vocab_size, pre, normalizer=None, specials=(), added=(), ignore_merges=False):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus_lines(), trainer)
    if added:
        tok.add_tokens(list(added))
    return tok


def sentencepiece_bpe(vocab_size, specials, normalizer, pre, decoder):
    """Llama-style BPE: trained with a Metaspace split, then given the family's own pipeline, with
    <0xXX> byte tokens as ordinary vocabulary entries (as converted SentencePiece models have)."""
    tok = Tokenizer(models.BPE(unk_token=specials[0], byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials) + byte_tokens,
                                  show_progress=False, limit_alphabet=120)
    tok.train_from_iterator(corpus_lines(), trainer)
    d = json.loads(tok.to_str())
    d["added_tokens"] = [t for t in d["added_tokens"] if t["content"] not in byte_tokens]
    tok = Tokenizer.from_str(json.dumps(d))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoder
    return tok


def template(bos, bos_id):
    return processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                         special_tokens=[(bos, bos_id)])


def build_all():
    out = {}

    gpt2 = byte_level_bpe("gpt2", 600, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                          specials=["<|endoftext|>"],
                          added=[AddedToken("fox", single_word=True, normalized=False)])
    gpt2.post_processor = processors.ByteLevel(trim_offsets=False)
    out["gpt2"] = (gpt2, {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                          "unk_token": "<|endoftext|>", "model_max_length": 1024}, None, "strings")

    qwen_pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    qwen2 = byte_level_bpe("qwen2", 700, qwen_pre, normalizer=normalizers.NFC(),
                           specials=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                           added=[AddedToken("<think>", special=False, normalized=False),
                                  AddedToken("</think>", special=False, normalized=False, rstrip=True)])
    qwen2.post_processor = processors.ByteLevel(trim_offsets=False)
    out["qwen2"] = (qwen2, {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                            "add_bos_token": False,
                            "chat_template": "config template (overridden by chat_template.jinja)",
                            "model_max_length": 131072},
                    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
                    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
                    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}", "pairs")

    llama3_pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False, trim_offsets=True)])
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    llama3 = byte_level_bpe("llama3", 800, llama3_pre, specials=specials, ignore_merges=True)
    llama3.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=False),
                                                 template("<|begin_of_text|>", 0)])
    out["llama3"] = (llama3, {"bos_token": "<|begin_of_text|>",
                              "eos_token": {"content": "<|eot_id|>", "lstrip": False, "normalized": False,
                                            "rstrip": False, "single_word": False, "__type": "AddedToken"},
                              "chat_template": "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}",
                              "model_max_length": 1000000000000000019884624838656}, None, "pairs")

    roberta = byte_level_bpe("roberta", 600, pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
                             specials=["<s>", "<pad>", "</s>", "<unk>"])
    roberta.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    roberta.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    out["roberta"] = (roberta, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                "mask_token": "<mask>"}, None, "pairs")

    sp_decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                    decoders.Strip(" ", 1, 0)])
    llama2 = sentencepiece_bpe(700, ["<unk>", "<s>", "</s>"],
                               normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]),
                               None, sp_decoder)
    llama2.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    llama2.add_tokens([AddedToken("<extra>", special=False, normalized=True)])
    llama2.post_processor = template("<s>", 1)
    out["llama2"] = (llama2, {"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>",
                              "unk_token": "<unk>", "add_bos_token": True, "add_eos_token": False,
                              "chat_template": [{"name": "default", "template": "default {{ messages }}"},
                                                {"name": "tool_use", "template": "tools {{ tools }}"}],
                              "model_max_length": 4096}, None, "pairs")

    mistral = sentencepiece_bpe(700, ["<unk>", "<s>", "</s>"], None,
                                pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False),
                                decoders.Metaspace(replacement="▁", prepend_scheme="first", split=False))
    mistral.post_processor = template("<s>", 1)
    out["mistral"] = (mistral, {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}, None, "pairs")

    # Without byte fallback, characters outside the vocabulary become one fused <unk>.
    unk = json.loads(mistral.to_str())
    unk["model"]["byte_fallback"] = False
    out["sentencepiece-unk"] = (Tokenizer.from_str(json.dumps(unk)), None, None, "pairs")

    always = sentencepiece_bpe(600, ["<unk>", "<s>", "</s>"], None,
                               pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
                               decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="always",
                                                                     split=True), decoders.ByteFallback(),
                                                  decoders.Fuse()]))
    always.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    out["metaspace-always"] = (always, None, None, "pairs")

    gemma = sentencepiece_bpe(700, ["<unk>", "<pad>", "<eos>", "<bos>"], normalizers.Replace(" ", "▁"), None,
                              decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                                 decoders.Fuse()]))
    gemma.add_special_tokens(["<start_of_turn>", "<end_of_turn>"])
    gemma.post_processor = template("<bos>", 3)
    out["gemma"] = (gemma, {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>",
                            "add_bos_token": True}, None, "pairs")

    bert = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=20))
    bert.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                 strip_accents=False, lowercase=False)
    bert.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    bert.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(vocab_size=700, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        show_progress=False, limit_alphabet=150)
    bert.train_from_iterator(corpus_lines(), trainer)
    bert.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    out["bert"] = (bert, {"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]", "pad_token": "[PAD]",
                          "model_max_length": 512}, None, "pairs")
    return out


def merges_as_strings(d):
    """The older serialization: merges as "left right" strings."""
    d["model"]["merges"] = [" ".join(m) if isinstance(m, list) else m for m in d["model"]["merges"]]
    return d


def record(tok, cases):
    rec = {"ids": [], "ids_special": [], "decoded": [], "decoded_special": [],
           "vocabulary_size": tok.get_vocab_size(with_added_tokens=True)}
    for _, text, parse_special in cases:
        tok.encode_special_tokens = not parse_special
        ids = tok.encode(text, add_special_tokens=False).ids
        ids_special = tok.encode(text).ids
        tok.encode_special_tokens = False
        rec["ids"].append(ids)
        rec["ids_special"].append(ids_special)
        rec["decoded"].append(tok.decode(ids))
        rec["decoded_special"].append(tok.decode(ids_special))
    return rec


def main():
    cases = golden_texts() + EXTRA_TEXTS
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    expected = {"cases": [{"name": n, "text": t, "parse_special": p} for n, t, p in cases], "tokenizers": {}}
    for name, (tok, config, jinja, merge_form) in build_all().items():
        folder = os.path.join(OUT, name)
        os.makedirs(folder)
        d = json.loads(tok.to_str())
        if merge_form == "strings":
            d = merges_as_strings(d)
        # What is committed is what is measured: reload the written file.
        text = json.dumps(d, ensure_ascii=False, indent=None, separators=(",", ":"))
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            f.write(text)
        tok = Tokenizer.from_str(text)
        if config is not None:
            with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
                json.dump(config, f, ensure_ascii=False, indent=1)
        if jinja is not None:
            with open(os.path.join(folder, "chat_template.jinja"), "w") as f:
                f.write(jinja)
        expected["tokenizers"][name] = record(tok, cases)
        print(f"{name}: {len(text) // 1024} KB, vocabulary {tok.get_vocab_size(with_added_tokens=True)}")

    minilm = os.path.join(MODELS_DIR, "all-MiniLM-L6-v2", "tokenizer.json")
    if not os.path.exists(minilm):
        sys.exit(f"{minilm} is missing: run scripts/fetch-models minilm")
    tok = Tokenizer.from_file(minilm)
    tok.no_padding()  # the file pads to 128; the Swift tokenizer returns the unpadded encoding
    tok.no_truncation()
    expected["tokenizers"]["minilm"] = record(tok, cases)

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
