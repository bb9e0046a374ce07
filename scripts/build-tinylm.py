#!/usr/bin/python3
"""Builds models/tinylm: a tiny byte-level GPT in the Hugging Face Optimum decoder layout.

    /usr/bin/python3 scripts/build-tinylm.py                 # writes models/tinylm/
    /usr/bin/python3 scripts/build-tinylm.py --fixture DIR   # writes the test fixture (see below)

Needs PyTorch and onnx (Debian: apt-get install python3-torch python3-onnx; built with torch 1.13.1
and onnx 1.12.0). CI never runs this script: it only uses the committed files. It is deterministic on
one machine and software stack (fixed seeds, one thread, deterministic algorithms), so a rebuild with the
same versions gives the same weights; other torch versions or CPUs may give other (equally valid) bits.

The model: a 3-layer decoder-only transformer (d=96, 4 heads of 24, learned positions, context 512),
vocabulary = the 256 bytes (GPT-2 byte-level alphabet) + `<|endoftext|>` (id 256), trained for 200
steps (AdamW, batches of 8 windows of 64 bytes) on the text embedded below, with `<|endoftext|>`
between paragraphs so it learns to stop. Small on purpose: it builds in about a minute of one CPU.

Exported like Optimum's `text-generation-with-past`: inputs input_ids int64[batch, seq],
attention_mask int64[batch, past+seq], position_ids int64[batch, seq], past_key_values.N.key|value
float32[batch, 4, past, 24]; outputs logits float32[batch, seq, 257] and present.N.key|value. The
first step feeds zero-length past tensors.

`--fixture DIR` writes a second, smaller model of another shape for the tests: 1 layer, d=32, no KV
cache and no position_ids input (positions come from the attention mask inside the graph), inputs
input_ids and attention_mask, output logits only.
"""

import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn

TEXT = """The lighthouse keeper woke before the sun and climbed the stairs to the lamp. He wiped the glass, trimmed the wick and watched the grey sea turn silver. Every morning was the same, and every morning he was glad of it.
The market opened at seven. The baker brought bread, the fisher brought fish, and the old woman from the hill brought honey in small brown jars. By noon the square was loud with voices and the smell of oranges.
A small robot lived in the library. It sorted books by colour when nobody was looking and by title when the librarian came back. It liked the quiet hours best, when the rain tapped on the tall windows.
The river ran past the mill and under the stone bridge. Children threw sticks from one side and ran to the other to see which stick came out first. The winner got to choose the next game.
In the garden there were tomatoes, beans and a row of sunflowers taller than the fence. The cat slept in the shade of the beans and pretended not to see the birds.
The train left the station at ten past nine. A girl by the window counted the fields, the cows and the bridges, and fell asleep somewhere between the third bridge and the sea.
Tokens are minted, revenue is shared, and every output can be checked again by anyone who runs the same model on the same prompt with the same settings.
The model writes a few words, the words become a token, and the token carries a proof that the model wrote them."""

EOS = 256
VOCAB = 257


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tokenizer_json():
    """A byte-level BPE tokenizer.json with no merges: one token per byte, plus <|endoftext|>."""
    table = bytes_to_unicode()
    vocab = {table[b]: b for b in range(256)}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": EOS, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": []},
    }


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x, mask, past_k=None, past_v=None):
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.reshape(b, t, self.heads, hd).transpose(1, 2) for z in (q, k, v))
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        att = (q @ k.transpose(2, 3)) / math.sqrt(hd)
        att = att.masked_fill(~mask, -1e9).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        x = x + self.out(nn.functional.gelu(self.fc(self.ln2(x))))
        return x, k, v


class TinyLM(nn.Module):
    def __init__(self, d, heads, layers, context):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, d)
        self.wpe = nn.Embedding(context, d)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def run(self, input_ids, attention_mask, position_ids, past):
        t = input_ids.shape[1]
        total = attention_mask.shape[1]
        q_pos = torch.arange(t).unsqueeze(1) + (total - t)
        k_pos = torch.arange(total).unsqueeze(0)
        mask = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
        x = self.wte(input_ids) + self.wpe(position_ids)
        presents = []
        for i, block in enumerate(self.blocks):
            pk, pv = (past[2 * i], past[2 * i + 1]) if past else (None, None)
            x, k, v = block(x, mask, pk, pv)
            presents += [k, v]
        logits = self.ln(x) @ self.wte.weight.t()
        return logits, presents


class WithPast(nn.Module):
    """Optimum names: input_ids, attention_mask, position_ids, past_key_values.N.key|value."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, input_ids, attention_mask, position_ids, *past):
        logits, presents = self.lm.run(input_ids, attention_mask, position_ids, list(past))
        return (logits, *presents)


class NoCache(nn.Module):
    """input_ids and attention_mask only; positions from the mask (cumsum - 1), no cache."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, input_ids, attention_mask):
        position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
        logits, _ = self.lm.run(input_ids, attention_mask, position_ids, [])
        return logits


def train(lm, steps, context, seed):
    data = []
    for paragraph in TEXT.split("\n"):
        data += list(paragraph.encode("utf-8")) + [EOS]
    data = torch.tensor(data, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(lm.parameters(), lr=3e-3, weight_decay=0.01)
    window = min(context, 64)
    for step in range(steps):
        starts = torch.randint(0, len(data) - window - 1, (8,), generator=g)
        x = torch.stack([data[s : s + window] for s in starts])
        y = torch.stack([data[s + 1 : s + window + 1] for s in starts])
        mask = torch.ones_like(x)
        pos = torch.arange(window).unsqueeze(0).expand_as(x)
        logits, _ = lm.run(x, mask, pos, [])
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"step {step} loss {loss.item():.3f}", file=sys.stderr)


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def export(out, d, heads, layers, context, steps, seed, with_past):
    torch.manual_seed(seed)
    lm = TinyLM(d, heads, layers, context)
    train(lm, steps, context, seed)
    lm.eval()
    os.makedirs(out, exist_ok=True)
    hd = d // heads
    ids = torch.tensor([[72, 101, 108]], dtype=torch.long)
    with torch.no_grad():
        if with_past:
            past = [torch.zeros(1, heads, 2, hd) for _ in range(2 * layers)]
            mask = torch.ones(1, 5, dtype=torch.long)
            pos = torch.tensor([[2, 3, 4]], dtype=torch.long)
            past_names = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
            present_names = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
            dynamic = {"input_ids": {0: "batch_size", 1: "sequence_length"},
                       "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
                       "position_ids": {0: "batch_size", 1: "sequence_length"},
                       "logits": {0: "batch_size", 1: "sequence_length"}}
            for name in past_names:
                dynamic[name] = {0: "batch_size", 2: "past_sequence_length"}
            for name in present_names:
                dynamic[name] = {0: "batch_size", 2: "total_sequence_length"}
            torch.onnx.export(WithPast(lm), (ids, mask, pos, *past), os.path.join(out, "model.onnx"),
                              input_names=["input_ids", "attention_mask", "position_ids", *past_names],
                              output_names=["logits", *present_names], dynamic_axes=dynamic, opset_version=14)
        else:
            mask = torch.ones(1, 3, dtype=torch.long)
            torch.onnx.export(NoCache(lm), (ids, mask), os.path.join(out, "model.onnx"),
                              input_names=["input_ids", "attention_mask"], output_names=["logits"],
                              dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                            "attention_mask": {0: "batch_size", 1: "sequence_length"},
                                            "logits": {0: "batch_size", 1: "sequence_length"}},
                              opset_version=14)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer_json())
    write_json(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "model_max_length": context, "add_prefix_space": False,
        "clean_up_tokenization_spaces": False})
    write_json(os.path.join(out, "special_tokens_map.json"), {
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"})
    write_json(os.path.join(out, "config.json"), {
        "architectures": ["TinyLM"], "model_type": "gpt2", "vocab_size": VOCAB, "n_embd": d, "n_head": heads,
        "n_layer": layers, "n_positions": context, "max_position_embeddings": context, "bos_token_id": EOS,
        "eos_token_id": EOS, "use_cache": with_past})
    write_json(os.path.join(out, "generation_config.json"), {
        "bos_token_id": EOS, "eos_token_id": EOS, "do_sample": False, "max_new_tokens": 64})
    # Greedy decoding of so small a model repeats itself; tinylm samples by default (seed 0 unless
    # --seed), which is as reproducible. The test fixture stays greedy.
    settings = {"kind": "causal-lm", "temperature": 0.8, "topK": 40} if with_past else {"kind": "causal-lm"}
    write_json(os.path.join(out, "imo.pipeline.json"), settings)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "models", "tinylm"))
    parser.add_argument("--fixture", help="write the no-cache test fixture to this folder instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.fixture:
        export(args.fixture, d=32, heads=2, layers=1, context=256, steps=200, seed=7, with_past=False)
    else:
        export(args.out, d=96, heads=4, layers=3, context=512, steps=200, seed=1, with_past=True)


if __name__ == "__main__":
    main()
