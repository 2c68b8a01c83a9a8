"""Money amounts written as text: parsed to a number, or refused with a reason.

CRM and shop exports write amounts the way people read them: ``1,200,000 ریال``,
``۱۲٫۵``, ``12,5`` (a decimal comma), ``$ 1,234.50``, ``-35`` for a refund. A value
that cannot be read unambiguously is never turned into 0: :func:`parse_amount`
returns the reason instead, and the reader quarantines the row with it.

The currency word is only recognised and dropped; amounts are not converted between
currencies (ریال and تومان differ by a factor of 10, so one file should use one unit).
"""

from __future__ import annotations

import math
import re

import pandas as pd

# Persian (U+06F0..) and Arabic-Indic (U+0660..) digits, Arabic decimal and thousands signs.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩٫٬−", "01234567890123456789.,-")
CURRENCY_WORDS = (
    "ریال",
    "تومان",
    "تومن",
    "irr",
    "irt",
    "rial",
    "rials",
    "toman",
    "tomans",
    "usd",
    "eur",
    "gbp",
    "$",
    "€",
    "£",
    "﷼",
)
_CURRENCY = re.compile(
    "|".join(re.escape(w) for w in sorted(CURRENCY_WORDS, key=len, reverse=True)), re.IGNORECASE
)
_SPACES = re.compile(r"[\s\u00a0\u200c\u200f\u200e\u202f']+")  # incl. NBSP, ZWNJ, marks, 1'000
_GROUPED_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,200,000 or 1,234.50
_GROUPED_DOT = re.compile(
    r"^\d{1,3}(\.\d{3}){2,}(,\d+)?$|^\d{1,3}(\.\d{3})+,\d+$"
)  # 1.200.000 / 1.234,5
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$|^\d+,\d{4,}$")  # 12,5 / 12,25 (not 1,200)
_PLAIN = re.compile(r"^\d+(\.\d+)?$|^\.\d+$")
# One mark and three digits: 1.234 is 1234 in a file writing 1.234,50, 1.234 in one writing 12.5.
_AMBIGUOUS = re.compile(r"^[1-9]\d{0,2}[.,]\d{3}$")
# Marks only a decimal point can explain: 12.5, 1,234.50, 1,200,000 (commas group thousands).
_DOT_DECIMAL = re.compile(r"^\d*\.(\d{1,2}|\d{4,})$|^\d{1,3}(,\d{3})+\.\d+$|^\d{1,3}(,\d{3}){2,}$")
# A mark then three digits, the only shape _AMBIGUOUS can take (RE2, run by pyarrow).
_THREE_AFTER_MARK = r"[.,][0-9۰-۹٠-٩]{3}(?:[^0-9۰-۹٠-٩]|$)"
_LATIN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def parse_amount(value: object) -> tuple[float | None, str | None]:
    """(amount, None) or (None, why it was refused).

    Examples
    --------
    >>> parse_amount("1,200,000 ریال"), parse_amount("۱۲٫۵"), parse_amount("12,5")
    ((1200000.0, None), (12.5, None), (12.5, None))
    >>> parse_amount("$ -35.00"), parse_amount("(35)"), parse_amount("1.234,5 €")
    ((-35.0, None), (-35.0, None), (1234.5, None))
    >>> parse_amount("1,5,0")
    (None, "'1,5,0' is not an amount (digits with one decimal mark, optional thousands separators and currency word)")
    """
    if value is None or value is pd.NA:
        return None, "missing amount"
    if isinstance(value, bool):
        return None, f"{value!r} is not an amount"
    if isinstance(value, int | float):
        number = float(value)
        return (number, None) if math.isfinite(number) else (None, f"{value!r} is not finite")
    if not isinstance(value, str):
        return None, f"{value!r} is not an amount"
    shown = repr(value[:60])
    text = _CURRENCY.sub("", value.translate(_DIGITS))
    text = _SPACES.sub("", text)
    if not text:
        return None, f"{shown} has no digits"
    negative = False
    if text.startswith("(") and text.endswith(")"):  # accounting style (35) = -35
        negative, text = True, text[1:-1]
    if text[:1] in "+-":
        negative, text = negative ^ (text[0] == "-"), text[1:]
    elif text[-1:] == "-":  # trailing minus, as some ERPs print refunds
        negative, text = True, text[:-1]
    if _PLAIN.match(text):
        number = float(text)
    elif _GROUPED_COMMA.match(text):
        number = float(text.replace(",", ""))
    elif _GROUPED_DOT.match(text):
        number = float(text.replace(".", "").replace(",", "."))
    elif _DECIMAL_COMMA.match(text):
        number = float(text.replace(",", "."))
    else:
        return None, (
            f"{shown} is not an amount (digits with one decimal mark, optional thousands "
            "separators and currency word)"
        )
    if not math.isfinite(number):
        return None, f"{shown} is not finite"
    return (-number if negative else number), None


def _marks(value: object) -> str:
    """A value's digits and ASCII marks only (the Arabic ٫ and ٬ say which they are)."""
    if not isinstance(value, str):
        return ""
    text = _SPACES.sub("", _CURRENCY.sub("", value.translate(_LATIN_DIGITS)))
    return text.strip("()+-")


def _swap_marks(value: str) -> str:
    return value.translate(str.maketrans(".,", ",."))


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(amounts as Float64, reasons as string; null where the amount was read).

    ``1.234`` or ``1,234`` alone cannot say which mark is the decimal one, so the column
    decides: in a file that also writes ``1.234,50`` or ``12,5`` they are 1234 and 1.234;
    otherwise 1.234 and 1234, as :func:`parse_amount` reads them; in a file writing
    decimals both ways (``1.234,50`` and ``12.50``) they are refused.

    >>> parse_amounts(pd.Series(["1.234,50", "1.234", "1,234"]))[0].tolist()
    [1234.5, 1234.0, 1.234]
    >>> parse_amounts(pd.Series(["1.234", "12.5"]))[0].tolist()
    [1.234, 12.5]
    """
    texts = values.tolist()
    maybe = values.astype("string[pyarrow]").str.contains(_THREE_AFTER_MARK, regex=True)
    if not maybe.fillna(False).any():  # most files: no value a thousands group could explain
        return _frames([parse_amount(v) for v in texts], values.index)
    marks = [_marks(v) for v in texts]
    comma = next((v for v, m in zip(texts, marks, strict=True) if _comma_decimal(m)), None)
    dot = next((v for v, m in zip(texts, marks, strict=True) if _DOT_DECIMAL.match(m)), None)
    parsed: list[tuple[float | None, str | None]] = []
    for value, mark in zip(texts, marks, strict=True):
        if comma is None or not _AMBIGUOUS.match(mark):
            parsed.append(parse_amount(value))
        elif dot is None:  # the file writes decimal commas: its dots group thousands
            parsed.append(parse_amount(_swap_marks(value)))
        else:
            parsed.append(
                (
                    None,
                    f"{value[:60]!r} is ambiguous (a thousands mark or a decimal one): the file "
                    f"writes decimals both as {comma[:30]!r} and {dot[:30]!r}; export one way",
                )
            )
    return _frames(parsed, values.index)


def _frames(
    parsed: list[tuple[float | None, str | None]], index: pd.Index
) -> tuple[pd.Series, pd.Series]:
    amounts = pd.Series([a for a, _ in parsed], index=index, dtype="Float64")
    reasons = pd.Series([r for _, r in parsed], index=index, dtype="string")
    return amounts, reasons


def _comma_decimal(marks: str) -> bool:
    """Marks only a decimal comma can explain: 12,5, 1.234,50, 1.200.000 (dots group)."""
    return bool(_GROUPED_DOT.match(marks) or _DECIMAL_COMMA.match(marks))
