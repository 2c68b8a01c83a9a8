"""The one allow-list of types a saved cxtext model may contain.

Every command that loads a model (`predict`, `evaluate`, `run`, `retrain`, the
notebooks) checks a skops file against :data:`TRUSTED_TYPES` through
:func:`cxtext.classify.registry.load_skops`. The check compares type *names* read
from the file's schema as strings: nothing named in the file is imported before
every name has passed, so a crafted file cannot run code by naming a module.

skops itself trusts plain containers and the scikit-learn, NumPy and SciPy types it
knows to be safe (its own explicit string lists) and reports everything else; those
reported names must be listed here. When a training path (``cxtext train``, a
``--features`` option, a new classifier) saves a new type, add its name below in the
same commit: ``tests/test_model_types.py`` trains every kind and fails otherwise.
"""

from __future__ import annotations

TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        # Text preparation and features: every sentiment and topic Pipeline.
        "cxtext.classify.features.TextPreparer",
        "cxtext.classify.features.CompactTfidfVectorizer",
        # Sentiment: `cxtext train --task sentiment --param classifier=nblr`.
        "cxtext.classify.sentiment.NBLogisticRegression",
        # Topics: `cxtext train --task topic` (multi-label over the taxonomy's themes).
        "cxtext.classify.topics.ThemeClassifier",
        # `cxtext train --features tfidf+static` / `tfidf+encoder` (docs/classifiers.md).
        "cxtext.classify.static.StaticEmbedder",
        "cxtext.classify.encoder.E5Embedder",
        "cxtext.classify.features.StageNormalizer",
        # `--features tfidf+encoder --param fusion=late`: a soft VotingClassifier keeps its
        # fitted members in a Bunch (a dict with attribute access; skops does not list it).
        "sklearn.utils._bunch.Bunch",
        # `--task topic --features tfidf+encoder --param fusion=late`: two multi-label topic
        # models averaged per theme.
        "cxtext.classify.late_fusion.ThemeLateFusion",
        # `--param encoder_languages=en`: the encoder member sees English documents only.
        "cxtext.classify.late_fusion.LanguageGate",
        # A fine-label member (intents, complaint reasons) summed per theme.
        "cxtext.classify.late_fusion.FineLabelThemes",
    }
)


def is_trusted_type(type_name: str) -> bool:
    """Whether a type name (``module.QualName``) is on the allow-list; never imports it.

    Examples
    --------
    >>> is_trusted_type("cxtext.classify.topics.ThemeClassifier")
    True
    >>> is_trusted_type("numpy.f2py.__main__"), is_trusted_type("builtins.eval")
    (False, False)
    """
    return type_name in TRUSTED_TYPES
