"""Whether a client's reply to a visit report sounds like a concern: a plain word rule, no model.

The rule, in order:
1. The reply is normalised: lower case, apostrophes dropped ("Wasn't" → "wasnt"), and cut into
   clauses at . , ; : ! ? dashes and new lines, and before "but", "however", "though" and "although"
   ("Not sick, but limping" is two clauses).
2. In each clause, a phrase of `CONCERN_PHRASES` found as whole words is a concern, unless
   - a negation word (`NEGATIONS`: no, not, never, without, wasnt, didnt, …) stands within the
     three words before it in the same clause ("no problem", "not sick at all", "he wasnt
     hungry", "no more limping") and is not itself part of a concern ("not happy wasnt fed"), or
   - the clause thanks someone for something ("thank you so much for cleaning up the vomit":
     a clause that starts with thanks / thank you / thx and says "for" before the phrase), or
   - the clause is a condition: "if" before the phrase ("let me know if there are any problems").
3. The concerns found are returned in `CONCERN_PHRASES` order, each once.

A phrase that itself holds a negation ("wasnt fed", "didnt eat", "not happy") is matched whole,
so it is never cancelled by its own first word. The rule still errs towards telling the owner
("I dont think he was hurt" alerts: the negation is too far away); an owner reads the reply and
resolves the alert. A reply that only says "no" before a concern without a comma ("no he is
limping") is read as negated: the comma is what tells the two apart.
"""

from __future__ import annotations

import re

# Whole words or phrases, lower case, without apostrophes (the reply is normalised the same way).
CONCERN_PHRASES = (
    "not happy", "unhappy", "upset", "disappointed", "disappointing", "complain", "complaint",
    "worried", "worrying", "concerned", "wasnt fed", "not fed", "didnt feed", "didnt eat", "not eating",
    "wont eat", "hasnt eaten", "hungry", "injured", "injury", "hurt", "blood", "bloody", "bleeding",
    "limping", "limp", "sick", "vomit", "vomited", "vomiting", "threw up", "diarrhea", "problem", "problems",
    "missing", "lost", "escaped", "got out", "door open", "left open", "where is", "where was",
    "never came", "didnt come", "didnt show", "no show", "angry", "unacceptable", "terrible", "awful",
)
NEGATIONS = frozenset((
    "no", "not", "never", "without", "nothing", "none", "nor", "neither", "isnt", "wasnt", "arent",
    "werent", "didnt", "doesnt", "dont", "hasnt", "havent", "hadnt", "wont",
))
NEGATION_REACH = 3  # words before the phrase
THANKS = frozenset(("thanks", "thank", "thx", "thankyou"))

_CLAUSE_BREAK = re.compile(r"[.,;:!?\n\u2013\u2014]+| - |\b(?=(?:but|however|though|although)\b)")
_PHRASE_WORDS = tuple((phrase, tuple(phrase.split())) for phrase in CONCERN_PHRASES)


def _clauses(text: str) -> list[list[str]]:
    """The reply's clauses as lists of words (lower case, apostrophes dropped, other marks spaces)."""
    text = text.lower().replace("'", "").replace("\u2019", "")
    clauses = (re.sub(r"[^a-z0-9]+", " ", part).split() for part in _CLAUSE_BREAK.split(text))
    return [words for words in clauses if words]


def _is_negated(words: list[str], start: int, in_phrases: set[int]) -> bool:
    return any(words[i] in NEGATIONS and i not in in_phrases for i in range(max(0, start - NEGATION_REACH), start))


def _is_thanked(words: list[str], start: int) -> bool:
    return words[0] in THANKS and "for" in words[1:start]


def _is_conditional(words: list[str], start: int) -> bool:
    return "if" in words[:start]


def concern_phrases_in(text: str) -> list[str]:
    """The CONCERN_PHRASES the reply raises, after the negation and thanks rules (module docstring)."""
    found: set[str] = set()
    for words in _clauses(text or ""):
        hits = [(phrase, start, len(parts)) for phrase, parts in _PHRASE_WORDS
                for start in range(len(words) - len(parts) + 1) if tuple(words[start:start + len(parts)]) == parts]
        # "not happy, wasnt fed": a negation inside one concern does not cancel the next one.
        in_phrases = {i for _, start, size in hits for i in range(start, start + size)}
        found.update(phrase for phrase, start, _ in hits
                     if not _is_negated(words, start, in_phrases) and not _is_thanked(words, start)
                     and not _is_conditional(words, start))
    return [phrase for phrase in CONCERN_PHRASES if phrase in found]
