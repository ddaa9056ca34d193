"""The concern rule on replies clients really send: negations and thanks do not alert, concerns
still do (app.services.visits.concern_words). The webhook path is in test_report_replies.py."""

from __future__ import annotations

import pytest

from app.services.visits.concern_words import concern_phrases_in

# Replies that sounded like a concern to the plain word list and are not one.
CALM = [
    "No problem at all, thanks!",
    "Not sick at all, she's just a drama queen \U0001F602",
    "Thanks, she ate everything",
    "Thank you so much for cleaning up the vomit, you're a star",
    "thx for checking he wasn't hurt",
    "He wasn't hungry this morning either, that's normal for him",
    "No more limping, the vet's cream worked!",
    "Nothing missing, all good",
    "Never been so relaxed leaving him. Not worried at all",
    "Great, no blood test needed after all",
    "She didn't vomit this time? Amazing",  # a question of relief: "didnt" before the phrase
    "Let me know if there are any problems tomorrow",
    "If he gets out again just call me",
    "Wonderful report, he looks so happy",
    "No issues, no problems, no worries \u2014 see you Friday",
]

# Replies an owner must hear about, including ones next to a thanks or a negation.
CONCERNS = [
    ("Thanks for the update, but he is limping tonight", ["limping"]),
    ("Not a big deal, but she threw up twice after you left", ["threw up"]),
    ("Thank you. Where is his blue collar?", ["where is"]),
    ("Biscuit didn't eat his dinner and there's blood on the rug", ["didnt eat", "blood"]),
    ("The back door was left open when I got home!!", ["left open"]),
    ("I'm not happy, nobody came until 2pm", ["not happy"]),
    ("He got out of the yard. Why?", ["got out"]),
    ("Is she sick? She's vomiting now", ["sick", "vomiting"]),
    ("Thanks, though I'm worried he seems hurt", ["worried", "hurt"]),
    ("no thanks needed \u2014 the cat is MISSING", ["missing"]),
    ("honestly not happy biscuit wasnt fed", ["not happy", "wasnt fed"]),  # one concern's "not" cancels no other
]


@pytest.mark.parametrize("text", CALM)
def test_negations_thanks_and_conditions_do_not_raise_a_concern(text):
    assert concern_phrases_in(text) == []


@pytest.mark.parametrize("text, found", CONCERNS)
def test_real_concerns_still_raise_one_even_beside_thanks_or_a_negation(text, found):
    assert concern_phrases_in(text) == found


def test_a_negation_reaches_three_words_and_stops_at_a_clause():
    assert concern_phrases_in("no sign of limping") == []
    # Four words back is too far: the sitter's "didn't notice" does not cancel the bleeding.
    assert concern_phrases_in("The sitter didn't notice he was bleeding") == ["bleeding"]
    assert concern_phrases_in("No, he is limping") == ["limping"]  # the comma ends the negation
    assert concern_phrases_in("not sick but limping") == ["limping"]  # "but" starts a new clause
