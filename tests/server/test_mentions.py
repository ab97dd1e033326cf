"""`@user_id` mentions found in a text, without a server."""

from __future__ import annotations

from chat_widget.server.mentions import find_mentions

MEMBERS = ["alice", "bob", "bob.smith", "bot:echo"]


def test_a_mention_counts_only_where_the_id_ends():
    assert find_mentions("@bob, @bob. @bob! @bob's (@bob)", MEMBERS) == ["bob"]
    assert find_mentions("@bobby @bob_ @bob-x @bobs", MEMBERS) == []


def test_the_longest_member_id_that_fits_wins():
    assert find_mentions("@bob.smith and @bob.", MEMBERS) == ["bob.smith", "bob"]
    assert find_mentions("@bot:echo?", MEMBERS) == ["bot:echo"]


def test_each_member_once_in_order_of_first_mention():
    assert find_mentions("@bob @alice @bob @alice", MEMBERS) == ["bob", "alice"]


def test_no_at_sign_glued_to_a_word_and_no_strangers():
    assert find_mentions("mail@bob @@bob @carol @", MEMBERS) == []
    assert find_mentions("", MEMBERS) == [] and find_mentions("@bob", []) == []
