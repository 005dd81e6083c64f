#!/usr/bin/env python3
"""Drives a running `swiftlet serve` (SmolLM2-135M-Instruct) with the official `openai` client:
a chat completion, a streamed chat completion, a text completion and a refused request, asserting
on each. Usage: openai-client-check.py http://127.0.0.1:PORT/v1  (exits non-zero on a failure)."""
import os
import sys

import openai

base_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000/v1"
client = openai.OpenAI(base_url=base_url, api_key=os.environ.get("SWIFTLET_API_KEY", "anything"), max_retries=0)

models = client.models.list().data
assert len(models) == 1 and models[0].owned_by == "swiftlet", models
model = models[0].id
print(f"model: {model}")

question = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"}]
chat = client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=24)
answer = chat.choices[0].message.content
assert chat.id.startswith("chatcmpl-") and chat.object == "chat.completion", chat
assert chat.choices[0].message.role == "assistant" and chat.choices[0].finish_reason in ("stop", "length"), chat
assert "Paris" in answer, f"expected Paris in {answer!r}"
assert chat.usage.prompt_tokens > 0 and 0 < chat.usage.completion_tokens <= 24, chat.usage
assert chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens, chat.usage
print(f"chat: {answer!r} ({chat.usage.prompt_tokens} prompt + {chat.usage.completion_tokens} completion tokens, "
      f"finish_reason {chat.choices[0].finish_reason})")

pieces, finish, usage, roles = [], None, None, []
stream = client.chat.completions.create(model=model, messages=question, temperature=0, max_tokens=24, stream=True,
                                        stream_options={"include_usage": True})
chunks = 0
for chunk in stream:
    chunks += 1
    assert chunk.object == "chat.completion.chunk", chunk
    if chunk.usage is not None:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.role:
            roles.append(choice.delta.role)
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
streamed = "".join(pieces)
assert roles == ["assistant"], roles
assert streamed == answer, f"streamed {streamed!r} != {answer!r}"
assert finish == chat.choices[0].finish_reason, finish
assert usage is not None and usage.completion_tokens == chat.usage.completion_tokens, usage
print(f"stream: {chunks} chunks, {len(pieces)} content pieces, same text, finish_reason {finish}, usage {usage.total_tokens} tokens")

completion = client.completions.create(model=model, prompt="The capital of France is", max_tokens=8, temperature=0)
text = completion.choices[0].text
assert completion.id.startswith("cmpl-") and completion.object == "text_completion", completion
assert text.strip() and 0 < completion.usage.completion_tokens <= 8, completion
print(f"completion: {text!r} (finish_reason {completion.choices[0].finish_reason})")

try:
    client.chat.completions.create(model=model, messages=question, n=2)
    raise AssertionError("n=2 was accepted")
except openai.BadRequestError as e:
    assert e.status_code == 400 and e.body["param"] == "n", e.body
    print(f"refused n=2: 400 {e.body['message']!r}")

print("openai client check: OK")
