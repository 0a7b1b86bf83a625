"""parsers.reasons: an option named in words, inflected, in en/ru/pl; no guess on a tie."""

from __future__ import annotations

from parsers.reasons import MAX_TEXT, match_option, stems

OPTIONS = {
    "slow": ["Slow response", "Долгий ответ", "Długi czas odpowiedzi", "ждал", "czekałem"],
    "not_solved": ["Problem not solved", "Проблема не решена", "Problem nie został rozwiązany"],
    "rude": ["Rude staff", "Грубый персонал", "Nieuprzejma obsługa", "rude"],
}


def test_inflected_words_meet_their_label():
    assert match_option("долго ждал ответа", OPTIONS) == "slow"
    assert match_option("Очень долгий ОТВЕТ, ёлки", OPTIONS) == "slow"
    assert match_option("proszę, długo czekałem na odpowiedź", OPTIONS) == "slow"
    assert match_option("the staff were rude", OPTIONS) == "rude"


def test_nothing_or_a_tie_is_no_answer():
    assert match_option("", OPTIONS) is None
    assert match_option("2", OPTIONS) is None
    assert match_option("thanks", OPTIONS) is None
    assert match_option("rude and I waited, ждал", OPTIONS) is None  # rude vs slow: one stem each


def test_longest_phrase_wins():
    assert match_option("Problem not solved and the staff were rude", OPTIONS) == "not_solved"


def test_text_is_bounded():
    assert "rude" not in stems("x " * MAX_TEXT + "rude")
