"""Search keys: what a contact is found by, and how a search text is read, folded the same way.

A contact's ``search_terms`` (one multikey array, indexed after ``workspace_id``) holds:

- every prefix, 1 to ``PREFIX_MAX`` characters, of each folded word of its first name, last
  name, company, email (local part and domain, split on ``. _ - +``) and city; a field gives
  at most ``WORDS_MAX`` words, and a spaced chunk of several words (``Jean-Luc``,
  ``o'brien``) also gives them joined (``jeanluc``);
- every run of ``DIGITS_MIN`` or more digits of its phone and of its first other phones
  (``PHONES_MAX`` numbers in all);
- each whole word of its name, marked with ``EXACT``, which ranks exact names first;

at most ``TERMS_MAX`` in all (the name's and numbers' kept first).

Folding: NFKD, then combining marks are dropped where they are accents (on Latin, Greek,
Cyrillic, Hebrew and Arabic letters; kept elsewhere, where they spell: Indic vowel signs,
Thai tones, Japanese voicing marks), then case folding (``ß`` is ``ss``) and a few letters
that do not decompose are spelled plainly (``ø`` o, ``ł`` l, ``đ`` d, ``æ`` ae, Turkish dotless
i as i, so every Turkish spelling of a name folds as its plain one does).
A word is a run of letters, digits and marks. Scripts written without spaces (Han, kana,
Hangul, Thai, Lao, Khmer, Myanmar) have each character start a word too, so ``小明``
finds ``王小明``; a name in them is also indexed as it is written, family name first
without a space (last name ``王``, first name ``小明``: ``王小明``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

PREFIX_MAX = 12  # a longer query word is looked up by its first 12 characters
EXACT_MAX = 32
WORDS_MAX = 8  # per field
STARTS_MAX = 8  # word starts within one unspaced run (CJK)
DIGITS_MIN = 3
DIGITS_MAX = 15  # E.164 numbers have at most 15 digits
PHONES_MAX = 5  # the phone and the first four other phones
TERMS_MAX = 1_000  # a contact's in all; typical ones hold 60 to 150, long Latin text about 1,000 at most
EXACT = "="

_ASCII_WORD = re.compile(r"[a-z0-9]+")
_PHONEISH = re.compile(r"^\+?[0-9 ().\-]+$")
_PLAIN = str.maketrans(
    {"ø": "o", "đ": "d", "ð": "d", "ł": "l", "ħ": "h", "ŧ": "t", "\u0131": "i", "ĸ": "k"}
    | {"ŋ": "n", "ƒ": "f", "æ": "ae", "œ": "oe", "þ": "th"}
)
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),  # Han
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),
    (0x20000, 0x2FFFF),
)


def _is_accent_base(code: int) -> bool:
    return code < 0x0800 or 0x1E00 <= code < 0x2000


def _unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED)


def _starts_word(char: str) -> bool:
    """Whether a character inside a word starts one too: a letter of a script without spaces."""
    return _unspaced(char) and not unicodedata.category(char).startswith("M")


def fold(text: str) -> str:
    """``text`` as search compares it: without accents, case folded."""
    if text.isascii():
        return text.lower()
    kept = []
    base = 0
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.category(char).startswith("M"):
            if _is_accent_base(base):
                continue
        else:
            base = ord(char)
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept)).translate(_PLAIN)


def words(folded: str) -> list[str]:
    """The words of folded text: runs of letters, digits and marks."""
    if folded.isascii():
        return _ASCII_WORD.findall(folded)
    found, current = [], []
    for char in folded:
        if unicodedata.category(char)[0] in "LNM":
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


def _chunks(text: str) -> list[list[str]]:
    """The words of each spaced chunk of ``text``."""
    return [found for piece in fold(text).split() if (found := words(piece))]


def _prefixes(word: str) -> list[str]:
    if word.isascii():
        return [word[:n] for n in range(1, min(len(word), PREFIX_MAX) + 1)]
    starts = [0, *[i for i, char in enumerate(word) if i and _starts_word(char)][: STARTS_MAX - 1]]
    return [word[s : s + n] for s in starts for n in range(1, min(len(word) - s, PREFIX_MAX) + 1)]


@lru_cache(maxsize=256)  # names, cities, companies and mail domains repeat through a list
def _text_terms(text: str, name: bool) -> tuple[str, ...]:
    """The keys of one field's text: its words' prefixes (at most ``WORDS_MAX`` words, a chunk
    of several words joined too), and for a name its words whole, marked ``EXACT``."""
    found: list[str] = []
    for parts in _chunks(text):
        found.extend(parts)
        if len(parts) > 1:
            found.append("".join(parts))
    found = found[:WORDS_MAX]
    exact = [EXACT + word[:EXACT_MAX] for word in found] if name else []
    return tuple(dict.fromkeys([*exact, *(p for word in found for p in _prefixes(word))]))


def _digit_runs(number: str) -> list[str]:
    digits = number.lstrip("+") if number[1:].isdigit() else re.sub(r"\D", "", number)
    digits = digits[:DIGITS_MAX]
    size = len(digits)
    return [digits[s:e] for s in range(size - DIGITS_MIN + 1) for e in range(s + DIGITS_MIN, size + 1)]


def index_terms(
    *,
    firstname: str,
    lastname: str,
    company: str | None = None,
    email: str | None = None,
    city: str | None = None,
    phone: str | None = None,
    other_phones: Sequence[str] = (),
) -> list[str]:
    """The ``search_terms`` of a contact with these values, each once, in a stable order: the
    name's, the numbers', then the company's, email's and city's, at most ``TERMS_MAX``."""
    terms = [*_text_terms(firstname, True), *_text_terms(lastname, True)]
    whole = lastname + firstname
    if not whole.isascii() and any(map(_unspaced, whole)):
        terms += _text_terms(whole, True)  # written family name first, without a space: 王小明
    for number in [phone or "", *other_phones][:PHONES_MAX]:
        terms += _digit_runs(number)
    for text in (company, *(email or "").split("@"), city):
        if text:
            terms += _text_terms(text, False)
    return list(dict.fromkeys(terms))[:TERMS_MAX]


# The stored values ``index_terms`` reads: a change to any of them derives the terms again.
SOURCES = frozenset(("firstname", "lastname", "company", "email", "city", "phone", "other_phones"))


@dataclass(frozen=True)
class SearchText:
    """A search as the index answers it: every key in ``keys`` is held (each query word as a
    prefix, or a run of phone digits); an exact name also holds every key in ``exact``."""

    keys: tuple[str, ...]
    exact: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> SearchText | None:
        """None for a blank search; no keys at all (found nowhere) for one of punctuation alone."""
        if not text.strip():
            return None
        digits = re.sub(r"\D", "", text)
        if _PHONEISH.match(text.strip()) and len(digits) >= DIGITS_MIN:
            return cls((digits,), ())  # one number, however it is spaced
        found = list(dict.fromkeys(words(fold(text))))
        exact = tuple(dict.fromkeys(EXACT + w[:EXACT_MAX] for w in found if not w.isdigit()))
        return cls(_most_telling(w[:PREFIX_MAX] for w in found), exact)


def _most_telling(keys: Iterable[str]) -> tuple[str, ...]:
    """``keys`` without those another one implies (a prefix of a held key is held too), longest first."""
    unique = sorted(set(keys), key=lambda k: (-len(k), k))
    kept: list[str] = []
    for key in unique:
        if not any(other.startswith(key) for other in kept):
            kept.append(key)
    return tuple(kept)


def terms_of(values: Mapping[str, Any]) -> list[str]:
    """The ``search_terms`` of a contact whose stored values (those named in ``SOURCES``) are ``values``."""
    return index_terms(
        firstname=values.get("firstname") or "",
        lastname=values.get("lastname") or "",
        company=values.get("company"),
        email=values.get("email"),
        city=values.get("city"),
        phone=values.get("phone"),
        other_phones=values.get("other_phones") or (),
    )
