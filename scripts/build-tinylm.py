#!/usr/bin/python3
"""Builds models/tinylm: a tiny byte-level GPT in the Hugging Face Optimum decoder layout.

    /usr/bin/python3 scripts/build-tinylm.py                 # writes models/tinylm/
    /usr/bin/python3 scripts/build-tinylm.py --fixture DIR   # writes the test fixture (see below)
    /usr/bin/python3 scripts/build-tinylm.py --hub test/fixtures/tinylm-hub   # the Hub-layout variants

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

`--hub DIR` writes, from the same training run as models/tinylm (same weights), the ONNX files of the
Hugging Face Hub layouts the tests assemble (test/fixtures/tinylm-hub):
- decoder_model_merged.onnx: Optimum's merged decoder, the with-past inputs plus `use_cache_branch`
  bool[1], and one If node running the graph without past (false) or with it (true); the weights once,
  in the outer graph (Optimum's merge_decoders does the same);
- model_quantized.onnx ("q8"): every MatMul weight stored as int8 (symmetric, one scale per tensor)
  and widened by DequantizeLinear, the rest as in model.onnx;
- model_fp16.onnx ("fp16"): weights stored as float16 (Cast to float32 where used), the cache inputs,
  the cache outputs and the logits float16, the arithmetic float32.
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


class NoPast(nn.Module):
    """Optimum's decoder_model: input_ids, attention_mask, position_ids; logits and present.N.key|value."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, input_ids, attention_mask, position_ids):
        logits, presents = self.lm.run(input_ids, attention_mask, position_ids, [])
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


def cache_axes(layers):
    """Optimum's names of the cache inputs and outputs, and the dynamic axes without and with past."""
    past_names = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    base = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    presents = {name: {0: "batch_size", 2: "total_sequence_length"} for name in present_names}
    pasts = {name: {0: "batch_size", 2: "past_sequence_length"} for name in past_names}
    return past_names, present_names, {**base, **presents}, {**base, **pasts, **presents}


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
            past_names, present_names, _, dynamic = cache_axes(layers)
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


def export_hub(out, d, heads, layers, context, steps, seed):
    """The Hub-layout variants of tinylm (see the module doc): same training run, same weights."""
    import tempfile

    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    torch.manual_seed(seed)
    lm = TinyLM(d, heads, layers, context)
    train(lm, steps, context, seed)
    lm.eval()
    os.makedirs(out, exist_ok=True)
    hd = d // heads
    past_names, present_names, axes, with_past_axes = cache_axes(layers)
    ids = torch.tensor([[72, 101, 108]], dtype=torch.long)
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        past = [torch.zeros(1, heads, 2, hd) for _ in range(2 * layers)]
        torch.onnx.export(WithPast(lm), (ids, torch.ones(1, 5, dtype=torch.long), torch.tensor([[2, 3, 4]]), *past),
                          os.path.join(tmp, "with_past.onnx"),
                          input_names=["input_ids", "attention_mask", "position_ids", *past_names],
                          output_names=["logits", *present_names], dynamic_axes=with_past_axes, opset_version=14)
        torch.onnx.export(NoPast(lm), (ids, torch.ones(1, 3, dtype=torch.long), torch.tensor([[0, 1, 2]])),
                          os.path.join(tmp, "no_past.onnx"),
                          input_names=["input_ids", "attention_mask", "position_ids"],
                          output_names=["logits", *present_names], dynamic_axes=axes, opset_version=14)
        with_past = onnx.load(os.path.join(tmp, "with_past.onnx"))
        no_past = onnx.load(os.path.join(tmp, "no_past.onnx"))

    def save(model, name):
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, name))
        print(f"wrote {name} ({os.path.getsize(os.path.join(out, name))} bytes)", file=sys.stderr)

    # Optimum's merged decoder.
    shared = {}  # initializer content -> the outer graph's initializer

    def branch(model, prefix):
        graph = model.graph
        outer = {value.name for value in graph.input}
        names = {}
        for init in graph.initializer:
            key = (init.data_type, tuple(init.dims), numpy_helper.to_array(init).tobytes())
            if key not in shared:
                copy = onnx.TensorProto()
                copy.CopyFrom(init)
                copy.name = f"w{len(shared)}.{init.name}"
                shared[key] = copy
            names[init.name] = shared[key].name

        def rename(name):
            if name == "" or name in outer:
                return name
            return names.setdefault(name, prefix + name)

        nodes = []
        for node in graph.node:
            copy = onnx.NodeProto()
            copy.CopyFrom(node)
            copy.name = prefix + node.name
            copy.input[:] = [rename(name) for name in node.input]
            copy.output[:] = [rename(name) for name in node.output]
            nodes.append(copy)
        outputs = []
        for value in graph.output:
            copy = onnx.ValueInfoProto()
            copy.CopyFrom(value)
            copy.name = rename(value.name)
            outputs.append(copy)
        return helper.make_graph(nodes, prefix.strip("/"), [], outputs)

    then_branch = branch(with_past, "with_past/")
    else_branch = branch(no_past, "no_past/")
    merged_inputs = list(with_past.graph.input) + [helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])]
    choose = helper.make_node("If", ["use_cache_branch"], [value.name for value in with_past.graph.output],
                              name="optimum::if", then_branch=then_branch, else_branch=else_branch)
    merged = helper.make_graph([choose], "merged", merged_inputs, list(with_past.graph.output),
                               initializer=list(shared.values()))
    save(helper.make_model(merged, opset_imports=with_past.opset_import, producer_name="build-tinylm.py"),
         "decoder_model_merged.onnx")

    # q8: int8 MatMul weights, widened by DequantizeLinear.
    quantized = onnx.ModelProto()
    quantized.CopyFrom(with_past)
    graph = quantized.graph
    inits = {init.name: init for init in graph.initializer}
    widen = []
    for node in graph.node:
        weight = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or weight.data_type != TensorProto.FLOAT or len(weight.dims) != 2:
            continue
        values = numpy_helper.to_array(weight)
        scale = np.float32(np.abs(values).max() / 127)
        q = np.clip(np.round(values / scale), -127, 127).astype(np.int8)
        graph.initializer.extend([numpy_helper.from_array(q, weight.name + "_quantized"),
                                  numpy_helper.from_array(np.array(scale, dtype=np.float32), weight.name + "_scale"),
                                  numpy_helper.from_array(np.array(0, dtype=np.int8), weight.name + "_zero_point")])
        widen.append(helper.make_node("DequantizeLinear",
                                      [weight.name + "_quantized", weight.name + "_scale", weight.name + "_zero_point"],
                                      [weight.name + "_dequantized"], name=weight.name + "_dequantize"))
        node.input[1] = weight.name + "_dequantized"
        graph.initializer.remove(weight)
    nodes = widen + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    save(quantized, "model_quantized.onnx")

    # fp16: float16 weights, cache and logits; float32 arithmetic.
    half = onnx.ModelProto()
    half.CopyFrom(with_past)
    graph = half.graph
    first, last = [], []
    for init in list(graph.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        graph.initializer.append(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16"))
        first.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], to=TensorProto.FLOAT))
        graph.initializer.remove(init)
    renamed = {}
    for value in graph.input:
        if value.name.startswith("past_key_values."):
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
            renamed[value.name] = value.name + "_fp32"
            first.append(helper.make_node("Cast", [value.name], [value.name + "_fp32"], to=TensorProto.FLOAT))
    for value in graph.output:
        value.type.tensor_type.elem_type = TensorProto.FLOAT16
        renamed[value.name] = value.name + "_fp32"
        last.append(helper.make_node("Cast", [value.name + "_fp32"], [value.name], to=TensorProto.FLOAT16))
    for node in graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
        node.output[:] = [renamed.get(name, name) for name in node.output]
    nodes = first + list(graph.node) + last
    del graph.node[:]
    graph.node.extend(nodes)
    save(half, "model_fp16.onnx")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "models", "tinylm"))
    parser.add_argument("--fixture", help="write the no-cache test fixture to this folder instead")
    parser.add_argument("--hub", help="write tinylm's Hub-layout variants (merged, q8, fp16) to this folder instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if args.hub:
        export_hub(args.hub, d=96, heads=4, layers=3, context=512, steps=200, seed=1)
    elif args.fixture:
        export(args.fixture, d=32, heads=2, layers=1, context=256, steps=200, seed=7, with_past=False)
    else:
        export(args.out, d=96, heads=4, layers=3, context=512, steps=200, seed=1, with_past=True)


if __name__ == "__main__":
    main()
