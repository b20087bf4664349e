from bot.incoming import MAX_CHARS, clean_message, decode


def test_invalid_utf8_is_replaced_not_rejected():
    assert decode(b"B\xfcrgerb\xfcro") == "B\ufffdrgerb\ufffdro"


def test_control_characters_and_surrogates_removed():
    assert clean_message("a\x00b\x07c\ud800d") == "a b cd"


def test_long_message_keeps_opening_and_final_question():
    text = "x" * 20000 + " Wo kann ich Deutsch lernen?"
    cleaned = clean_message(text)
    assert len(cleaned) <= MAX_CHARS + 3 and cleaned.endswith("Wo kann ich Deutsch lernen?")


def test_non_strings():
    assert clean_message(None) == "" and clean_message(12) == "12"
