"""Markup and invisible characters out of feedback text: what every channel's export needs.

Kept apart from the language normalizers (spaCy, hazm) so that ingest validation can ask
"is anything left once the markup is gone?" without importing them.
"""

from __future__ import annotations

import html
import re
import unicodedata

# A tag starts with a letter, "/", "!" or "?" after "<", so "5 < 10 and 20 > 3" is text.
_TAG = re.compile(
    r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[/!?]?[A-Za-z][^<>]{0,2000}>", re.I | re.S
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# Invisible format characters (Unicode category Cf) except ZWNJ, which Persian spelling
# needs: bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069) can reorder
# what a reader sees ("gnp.exe" shown as "exe.png"), and marks, joiners, soft hyphens and
# BOMs only hide text from search and from the PII patterns.
_INVISIBLE_CHARS = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# A text of nothing a reader sees: spaces, ZWNJ/ZWJ, variation selectors and
# invisible format characters (bidi isolates alone, a lone BOM). Ingest quarantines it
# as whitespace only: cleaned, it is empty.
BLANK = re.compile(f"^[\\s\u200c\u200d\ufe00-\ufe0f{_INVISIBLE_CHARS}]*$")
# The zero-width joiner is kept only inside an emoji sequence (👨‍👩‍👧, 🏳️‍🌈: without it the
# family falls apart into three faces); anywhere else, between digits, it hides a phone
# number from the PII patterns, so it goes.
_EMOJI = "\u2600-\u27bf\ufe0f\U0001f000-\U0001faff"
_STRAY_ZWJ = re.compile(f"(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])")
_ENTITY_ROUNDS = 3  # "&amp;lt;" decodes twice; markup encoded deeper than this stays text
_SPACE = re.compile(r"[ \t\r\n\u00a0]+")


def clean_text(text: str) -> str:
    """Plain text from whatever a channel exported: entities decoded, then tags stripped.

    Decoding comes first so that encoded markup (``&lt;script&gt;``) is stripped like
    markup instead of coming back as a literal ``<script>``; NFKC comes before the tags
    too (it folds full-width "＜" into "<", and Arabic presentation forms into ordinary
    letters, so "ﻻ" and "لا" are the same word). Bidi controls and other invisible
    characters go last (ZWNJ stays, and the joiner inside an emoji sequence).

    Examples
    --------
    >>> clean_text("<p>Refund&nbsp;<b>still</b> missing</p>")
    'Refund still missing'
    >>> clean_text("ok &lt;script&gt;alert(1)&lt;/script&gt; \u202egnp.exe")
    'ok gnp.exe'
    """
    for _ in range(_ENTITY_ROUNDS):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    text = unicodedata.normalize("NFKC", text)  # before tags: full-width "＜" becomes "<"
    text = _TAG.sub(" ", text)
    text = _STRAY_ZWJ.sub("", _INVISIBLE.sub("", _CONTROL.sub("", text)))
    return _SPACE.sub(" ", text).strip()
