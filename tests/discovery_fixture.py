"""Feedback with planted unseen themes (English and Persian) among unclaimed noise."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

END = pd.Timestamp("2026-11-20", tz="UTC")

NOISE_EN = (  # noqa: SIM905 (filler words read better as prose)
    "morning question account friend weekend colour screen weather holiday music picture "
    "river garden office cousin ticket coffee window paper summer village bicycle dinner "
    "lesson kitchen market number letter station button camera island street library forest"
).split()
NOISE_FA = (  # noqa: SIM905
    "صبح سوال دوست آخرهفته رنگ صفحه هوا تعطیلات موسیقی عکس رودخانه باغ اداره پسرعمو بلیت "
    "قهوه پنجره کاغذ تابستان روستا دوچرخه شام درس آشپزخانه بازار نامه ایستگاه دکمه دوربین "
    "جزیره خیابان کتابخانه جنگل"
).split()
PLANTED_EN = [
    "my crypto staking rewards vanished from the wallet",
    "crypto staking rewards are missing again",
    "where are my staking rewards for crypto",
    "the crypto staking rewards never showed up",
    "staking rewards on crypto disappeared overnight",
    "no crypto staking rewards this week either",
]
PLANTED_FA = [
    "پاداش استیکینگ رمزارز من ناپدید شد",
    "پاداش استیکینگ رمزارز هنوز واریز نشده",
    "چرا پاداش استیکینگ رمزارز صفر شده",
    "پاداش استیکینگ رمزارز این هفته هم نیامد",
    "استیکینگ رمزارز پاداش نداد",
    "پاداش استیکینگ رمزارز کم شده",
]


def planted_feedback(seed: int = 0, days: int = 28, per_theme: int = 24) -> pd.DataFrame:
    """Unclaimed noise in both languages, two planted themes, and a few claimed documents."""
    rng = np.random.default_rng(seed)
    rows = []

    def add(text: str, lang: str, negative: bool, topics: list[str] | None = None) -> None:
        n = len(rows)
        rows.append(
            {
                "source": "tickets",
                "id": f"T{seed}-{n:04d}",
                "created_at": END - pd.Timedelta(hours=int(rng.integers(1, days * 24))),
                "customer_id": f"C{int(rng.integers(0, 200)):03d}",
                "channel": ["ticket", "chat"][n % 2],
                "language": lang,
                "text_redacted": text,
                "topics": json.dumps(topics or []),
                "topic_scores": "{}",
                "aspect_sentiment": "{}",
                "sentiment": "negative" if negative else "neutral",
                "sentiment_score": -0.8 if negative else 0.0,
                "metadata": "{}",
            }
        )

    # Noise: made-up words, so no two noise documents share a subject.
    for letters, lang in (
        ("abcdefghijklmnopqrstuvwxyz", "en"),
        ("ابپتجچحخدرزسشصطعفقکگلمنوهی", "fa"),
    ):
        for _ in range(60):
            words = [
                "".join(rng.choice(list(letters), size=int(rng.integers(3, 8)))) for _ in range(6)
            ]
            add(" ".join(words), lang, bool(rng.random() < 0.3))
    for texts, lang in ((PLANTED_EN, "en"), (PLANTED_FA, "fa")):
        for i in range(per_theme):
            filler = " ".join(rng.choice(NOISE_EN if lang == "en" else NOISE_FA, size=2))
            add(f"{texts[i % len(texts)]} {filler}", lang, i % 4 != 0)
    for _ in range(20):
        add("the courier delivered my parcel late", "en", True, ["delivery"])
    return pd.DataFrame(rows)
