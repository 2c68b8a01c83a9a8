"""NPS and CSAT, and how many points a theme's respondents move them.

NPS = % promoters (9–10) − % detractors (0–6); CSAT = % of answers 4–5. A theme's
impact is the overall score minus the score without the responses that mention the
theme, in points: −4.0 means the theme's respondents pull the score down by 4 points.
"""

from __future__ import annotations

import numpy as np


def nps(scores: np.ndarray) -> float:
    """Net promoter score in points (NaN without responses).

    Examples
    --------
    >>> nps(np.array([10, 9, 8, 3]))
    25.0
    """
    s = np.asarray(scores, dtype=float)
    if len(s) == 0:
        return float("nan")
    return float(100.0 * (np.mean(s >= 9) - np.mean(s <= 6)))


def csat(scores: np.ndarray) -> float:
    """Share of satisfied answers (4–5 on a 1–5 scale), in percent (NaN without responses).

    Examples
    --------
    >>> csat(np.array([5, 4, 2, 1]))
    50.0
    """
    s = np.asarray(scores, dtype=float)
    if len(s) == 0:
        return float("nan")
    return float(100.0 * np.mean(s >= 4))


def score_impact(scores: np.ndarray, mentions_theme: np.ndarray, kind: str) -> float:
    """Overall score minus the score of the responses that do not mention the theme.

    NaN when there are no responses, none mentions the theme, or all do (nothing left
    to compare with).

    Examples
    --------
    >>> score_impact(np.array([10, 10, 0, 0]), np.array([False, False, True, True]), "nps")
    -100.0
    """
    scores = np.asarray(scores, dtype=float)
    mask = np.asarray(mentions_theme, dtype=bool)
    if len(scores) == 0 or not mask.any() or mask.all():
        return float("nan")
    f = nps if kind == "nps" else csat
    return f(scores) - f(scores[~mask])
