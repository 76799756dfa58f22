"""The attack vocabulary: modes and sparsities parse, print and refuse bad values in one place."""

from fractions import Fraction

import pytest

from gaitcore.attacks.vocabulary import KINDS, METHODS, Mode, Sparsity, sparsity_value


@pytest.mark.parametrize("text", ["alteration_nontargeted_adversary", "insertion_targeted_random",
                                  "alteration_targeted_mifgsm", "alteration_nontargeted_adversary+early_stop"])
def test_a_mode_prints_as_it_was_written(text):
    assert str(Mode.parse(text)) == text
    assert Mode.parse(Mode.parse(text)) == Mode.parse(text)


def test_mode_parts_baselines_and_their_seed_mode():
    mode = Mode.parse("insertion_targeted_pgd")
    assert (mode.kind, mode.goal, mode.setting, mode.variant) == ("insertion", "targeted", "pgd", "")
    assert mode.is_baseline and str(mode.seed_mode) == "insertion_targeted_adversary"
    variant = Mode.parse("alteration_nontargeted_adversary+temporal")
    assert variant.name == "alteration_nontargeted_adversary" and variant.variant == "temporal"
    assert not variant.is_baseline and str(variant.seed_mode) == "alteration_nontargeted_adversary"
    assert {Mode(kind, "targeted", method).is_baseline for kind in KINDS for method in METHODS} == {True}


@pytest.mark.parametrize("text", ["alteration_evasive_adversary", "alteration_nontargeted", "flip_targeted_random",
                                  "alteration_targeted_adversary+Bad-Name"])
def test_an_unknown_mode_is_refused_naming_the_allowed_parts(text):
    with pytest.raises(ValueError, match="attack mode"):
        Mode.parse(text)


@pytest.mark.parametrize("text, value, label, file_name", [
    ("1/40", Fraction(1, 40), "1/40", "1-40"), ("2/40", Fraction(1, 20), "1/20", "1-20"),
    ("1/10", Fraction(1, 10), "1/10", "1-10"),
    ("1/1", Fraction(1), "1/1", "1-1"),
])
def test_sparsity_forms(text, value, label, file_name):
    sparsity = Sparsity.parse(text)
    assert sparsity.value == value and sparsity.label == label == str(sparsity) and sparsity.file_name == file_name
    assert Sparsity.from_file_name(file_name) == sparsity and float(sparsity) == float(value)


def test_sparsities_from_numbers_order_like_their_values():
    assert Sparsity.parse(0.05) == Sparsity.parse("1/20") == Sparsity.parse(Fraction(1, 20))
    assert sorted([Sparsity.parse("1/10"), Sparsity.parse("1/40"), Sparsity.parse("1/20")]) == \
        [Sparsity.parse(s) for s in ("1/40", "1/20", "1/10")]
    assert sparsity_value("1/40") == 0.025


@pytest.mark.parametrize("bad, words", [("0/40", "is 0"), ("3/2", "above 1"), ("1/0", "divides by zero"),
                                        ("a/b", "not a fraction"), ("0.025", "not a fraction"),
                                        ("1/40 ", "not a fraction")])
def test_a_bad_sparsity_is_refused_with_the_value_and_the_fix(bad, words):
    with pytest.raises(ValueError, match=words):
        Sparsity.parse(bad)
    with pytest.raises(ValueError, match="sparsity"):
        Sparsity(Fraction(3, 2))


def test_headline_modes_are_the_plain_nontargeted_adversary_and_random_control():
    headline = [m for m in ("alteration_nontargeted_adversary", "insertion_nontargeted_random",
                            "alteration_nontargeted_adversary+temporal", "alteration_targeted_adversary",
                            "alteration_nontargeted_pgd") if Mode.parse(m).is_headline]
    assert headline == ["alteration_nontargeted_adversary", "insertion_nontargeted_random"]
