"""Correction probabilities computed once per distinct document signature (a night's
pain points cost what its distinct signatures cost, not what its window's documents
cost) equal the per-document computation."""

from __future__ import annotations

import dataclasses

import numpy as np

from cxtext.value.misclassification import (
    _document_cells,
    apply_rates,
    confusion_from_cards,
    correction_rates,
    customer_probability,
    customer_probability_of_signatures,
    mention_truth,
    signature_counts,
)
from cxtext.value.simulate import add_classifier_noise, default_noise, simulate_voc


def _truth():
    voc = simulate_voc(400, seed=3)
    noise = dataclasses.replace(default_noise(), held_out=800)
    noisy, topic_card, sentiment_cards = add_classifier_noise(voc, noise, seed=3)
    fb = noisy.feedback.reset_index(drop=True)
    fb.loc[:4, "language"] = None  # a language the cards do not know, and none at all
    fb.loc[5:9, "language"] = "mixed"
    fb.loc[10:12, "topics"] = None
    confusion = confusion_from_cards(topic_card, sentiment_cards, prior_texts=5)
    return fb, mention_truth(fb, [*noisy.taxonomy.ids, "unmeasured"], confusion), confusion


def test_signature_probabilities_equal_the_per_document_ones() -> None:
    fb, truth, confusion = _truth()
    per_doc, _ = _document_cells(fb, truth.themes, confusion)  # every document's own row
    distinct = len(truth._distinct["weight"])
    assert distinct < len(fb) / 2  # documents really share signatures
    assert truth._distinct["weight"].sum() == len(fb)

    np.testing.assert_allclose(
        truth.probability, apply_rates(per_doc, correction_rates(per_doc, None)), rtol=1e-12
    )
    reference = apply_rates(per_doc, correction_rates(per_doc, np.random.default_rng(7)))
    np.testing.assert_allclose(truth.draw(np.random.default_rng(7)), reference, rtol=1e-12)

    rows = np.flatnonzero(np.arange(len(fb)) % 3 == 1)
    for rates, again in zip(
        truth.draw_rates(np.random.default_rng(1), 3),
        truth.draw_rates(np.random.default_rng(1), 3),
        strict=True,
    ):
        every = truth.probability_under(rates, rows)
        np.testing.assert_allclose(every, apply_rates(per_doc, again, rows), rtol=1e-12)
        np.testing.assert_allclose(truth.probability_under(rates, rows, 2), every[:, 2])


def test_customer_probability_from_signatures_equals_the_per_document_one() -> None:
    fb, truth, _ = _truth()
    codes = np.random.default_rng(2).integers(-1, 60, len(fb))  # -1: no customer
    counts = signature_counts(truth.signature, codes, 60)
    for rng in (None, np.random.default_rng(5)):
        per_signature = truth.signature_probability(rng)
        np.testing.assert_allclose(
            customer_probability_of_signatures(per_signature, counts),
            customer_probability(per_signature[truth.signature], codes, 60),
            rtol=1e-12,
            atol=1e-15,
        )
    np.testing.assert_array_equal(
        truth.signature_probability(None)[truth.signature], truth.probability
    )
