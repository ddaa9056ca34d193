"""Opt-outs in the client's own words: "Please stop texting me, thanks" revokes like STOP.

Consent may be revoked by any reasonable means (FCC 24-24). A text whose whole meaning is
"stop texting me" (one of the phrasings below, after dropping case, punctuation and courtesy
words) revokes consent; a longer text that merely mentions stopping is never guessed at: owners
get a "possible opt-out" alert with the 10-business-day deadline instead.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

# Words that change nothing about what is asked ("please", "thanks", a greeting).
COURTESY_WORDS = frozenset({
    "please", "pls", "plz", "kindly", "thanks", "thank", "thx", "ty", "you", "u", "hi", "hello", "hey",
    "ok", "okay", "sorry", "just", "now", "asap", "again", "anymore", "any", "more", "sir", "maam",
    "guys", "folks", "thankyou", "cheers", "regards", "so", "much", "already", "really",
})

# Whole meanings, as word sequences after normalising ("don't" → "dont").
OPT_OUT_PHRASES = frozenset({
    "stop", "stopall", "quit", "end", "revoke", "optout", "opt out", "cancel", "unsubscribe",
    "stop texting me", "stop texting", "stop text me", "stop texts", "stop the texts", "stop messaging me",
    "stop messaging", "stop sending me texts", "stop sending texts", "stop contacting me",
    "dont text me", "do not text me", "dont text", "do not text", "dont message me", "do not message me",
    "dont contact me", "do not contact me", "no texts", "no more texts",
    "unsubscribe me", "remove me from your list", "remove me from the list", "remove me from your texts",
    "remove me", "take me off your list", "take me off the list", "opt me out", "opt out me",
})

# A longer text containing one of these deserves a person's look.
_MENTIONS = re.compile(r"\b(stop|unsubscribe|opt ?out|opt me out|quit|dont text|do not text|remove me|"
                       r"no more texts|revoke)\b")
_NOT_LETTERS = re.compile(r"[^a-z0-9 ]+")
BUSINESS_DAYS_TO_HONOUR = 10


def normalised_words(body: str | None) -> list[str]:
    """Lower case, apostrophes dropped ("don't" → "dont"), other punctuation a space, courtesy gone."""
    text = (body or "").lower().replace("'", "").replace("\u2019", "")
    words = _NOT_LETTERS.sub(" ", text).split()
    return [w for w in words if w not in COURTESY_WORDS]


def opt_out_reading(body: str | None) -> str | None:
    """'revoke' when the text means "stop texting me", 'possible' when it only mentions stopping,
    None otherwise."""
    words = normalised_words(body)
    if not words:
        return None
    if " ".join(words) in OPT_OUT_PHRASES:
        return "revoke"
    if _MENTIONS.search(" ".join(_NOT_LETTERS.sub(" ", (body or "").lower().replace("'", "")).split())):
        return "possible"
    return None


def honour_by(received_at: datetime, zone) -> datetime:
    """The end of the 10th business day (Mon-Fri) after `received_at`, in `zone`, as UTC."""
    local = received_at.astimezone(zone)
    day, left = local.date(), BUSINESS_DAYS_TO_HONOUR
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    end = datetime.combine(day, datetime.max.time().replace(microsecond=0), tzinfo=zone)
    return end.astimezone(received_at.tzinfo)
