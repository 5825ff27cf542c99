"""The token table of real-looking Indonesian government posts: exact rows on small cases, bad
input counted and never a crash, and Python work per distinct word, not per post."""

from __future__ import annotations

import random
import re
import sys
from collections import Counter

import emoji
import pyarrow as pa
import pytest
import wordfreq
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.text import tokens as tokens_module
from govsocial.text.tokens import (
    KINDS,
    MAX_CHARS,
    SCHEMA,
    Lexicon,
    Stats,
    default_lexicon,
    project_slang,
    project_stopwords,
    tokenise,
)

PLAIN_WORD = tokens_module._PLAIN_WORD
Row = tuple[int, int, str, str, str, str, bool]  # position, part, kind, token, display, stem, stop


def rows(text: str | None, lexicon: Lexicon | None = None) -> list[Row]:
    table = tokenise(pa.array([7], pa.int64()), pa.array([text], pa.string()), lexicon=lexicon)
    assert table.schema == SCHEMA
    assert set(table["post_id"].to_pylist()) <= {7}
    columns = ["position", "part", "kind", "token", "display", "stem", "stopword"]
    return [tuple(r.values()) for r in table.select(columns).to_pylist()]  # type: ignore[misc]


def tokens(text: str) -> list[str]:
    return [r[3] for r in rows(text)]


def test_a_provincial_post_with_slang_an_abbreviation_a_camelcase_hashtag_and_an_emoji() -> None:
    assert rows("Pemprov yg peduli #PerubahanIklim 🙏🏽") == [
        (0, 0, "word", "pemerintah", "Pemprov", "perintah", False),
        (0, 1, "word", "provinsi", "Pemprov", "provinsi", False),
        (1, 0, "word", "yang", "yg", "yang", True),
        (2, 0, "word", "peduli", "peduli", "peduli", False),
        (3, 0, "hashtag", "#perubahaniklim", "#PerubahanIklim", "#perubahaniklim", False),
        (3, 1, "hashtag_word", "perubahan", "Perubahan", "ubah", False),
        (3, 2, "hashtag_word", "iklim", "Iklim", "iklim", False),
        (4, 0, "emoji", "🙏", "🙏🏽", "🙏", False),
    ]


def test_mentions_urls_numbers_and_email_addresses() -> None:
    text = (
        "Info lengkap: https://S.id/VaksinJabar. Hubungi @HumasJabar atau humas@jabarprov.go.id, "
        "pukul 09.00 WIB, Rp10.000"
    )
    assert rows(text) == [
        (0, 0, "word", "informasi", "Info", "informasi", False),
        (1, 0, "word", "lengkap", "lengkap", "lengkap", False),
        (
            2,
            0,
            "url",
            "https://s.id/vaksinjabar",
            "https://S.id/VaksinJabar",
            "https://s.id/vaksinjabar",
            False,
        ),
        (3, 0, "word", "hubungi", "Hubungi", "hubung", False),
        (4, 0, "mention", "@humasjabar", "@HumasJabar", "@humasjabar", False),
        (5, 0, "word", "atau", "atau", "atau", True),
        (
            6,
            0,
            "url",
            "humas@jabarprov.go.id",
            "humas@jabarprov.go.id",
            "humas@jabarprov.go.id",
            False,
        ),
        (7, 0, "word", "pukul", "pukul", "pukul", True),
        (8, 0, "number", "09.00", "09.00", "09.00", False),
        (9, 0, "word", "wib", "WIB", "wib", True),
        (10, 0, "word", "rp", "Rp", "rp", False),
        (11, 0, "number", "10.000", "10.000", "10.000", False),
    ]


def test_bare_domains_are_urls_and_an_abbreviation_with_a_full_stop_is_a_word() -> None:
    got = rows("Kunjungi jakarta.go.id dan www.kemkes.go.id/vaksin dll.")
    assert [(r[2], r[3]) for r in got] == [
        ("word", "kunjungi"),
        ("url", "jakarta.go.id"),
        ("word", "dan"),
        ("url", "www.kemkes.go.id/vaksin"),
        ("word", "dan"),
        ("word", "lain-lain"),
    ]
    assert [r[:2] for r in got] == [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (4, 1)]


@pytest.mark.parametrize(
    ("hashtag", "words"),
    [
        ("#PerubahanIklim", ["perubahan", "iklim"]),
        ("#perubahaniklim", ["perubahan", "iklim"]),  # run-on: split by the dictionary
        ("#SDGs2030", ["sdgs", "2030"]),  # an acronym's plural s stays with it
        ("#COVID19", ["covid", "19"]),
        ("#kurangisampahplastik", ["kurangi", "sampah", "plastik"]),
        ("#savetheplanet", ["save", "the", "planet"]),
        ("#JabarJuara", ["jabar", "juara"]),
        ("#pemprovdki", ["pemerintah", "provinsi", "dki"]),  # then slang expanded
        ("#Banjir", ["banjir"]),
        ("#stopstunting", ["stopstunting"]),  # not "stop st un ting"
        ("#PPKM", ["pemberlakuan", "pembatasan", "kegiatan", "masyarakat"]),
        ("#東京2020", ["東京", "2020"]),
        ("#hari_lingkungan_hidup", ["hari", "lingkungan", "hidup"]),
    ],
)
def test_hashtags_are_split_into_words(hashtag: str, words: list[str]) -> None:
    got = rows(hashtag)
    assert got[0][:5] == (0, 0, "hashtag", hashtag.casefold(), hashtag)
    assert [(r[1], r[2], r[3]) for r in got[1:]] == [
        (i, "hashtag_word", w) for i, w in enumerate(words, start=1)
    ]


def test_a_hashtag_without_letters_is_a_number_and_a_lone_hash_is_dropped() -> None:
    assert [(r[2], r[3]) for r in rows("# #2024 #1")] == [("number", "2024"), ("number", "1")]


def test_numbers_keep_their_separators_and_a_range_is_two_numbers() -> None:
    assert [(r[2], r[3]) for r in rows("6.036.434 data, 24/9, 2019-2020, ke-5")] == [
        ("number", "6.036.434"),
        ("word", "data"),
        ("number", "24/9"),
        ("number", "2019"),
        ("number", "2020"),
        ("word", "ke-5"),
    ]


def test_mixed_indonesian_and_english_with_stopwords_from_both_lists_and_our_own() -> None:
    got = rows("Humas Kota: kolaborasi for climate action bersama warga, rilis pukul 10.00 WIB")
    stop = {r[3] for r in got if r[6]}
    assert stop == {"humas", "for", "bersama", "rilis", "pukul", "wib"}
    assert {"kolaborasi", "climate", "action", "warga", "kota"}.isdisjoint(stop)
    assert [r[3] for r in got if r[2] == "number"] == ["10.00"]


def test_informal_spellings_of_tidak_and_friends_are_expanded() -> None:
    assert tokens("gak bs dtg krn blm ada info dr dinkes, tp sdh lapor ke puskesmas") == [
        "tidak",
        "bisa",
        "dtg",  # not in the dictionary: kept as written
        "karena",
        "belum",
        "ada",
        "informasi",
        "dari",
        "dinas",
        "kesehatan",
        "tetapi",
        "sudah",
        "lapor",
        "ke",
        "pusat",
        "kesehatan",
        "masyarakat",
    ]


def test_emoji_only_posts_keep_each_emoji_and_fold_its_variants() -> None:
    assert rows("🙏🙏❤️👍🏽🇮🇩") == [
        (0, 0, "emoji", "🙏", "🙏", "🙏", False),
        (1, 0, "emoji", "🙏", "🙏", "🙏", False),
        (2, 0, "emoji", "❤", "❤️", "❤", False),
        (3, 0, "emoji", "👍", "👍🏽", "👍", False),
        (4, 0, "emoji", "🇮🇩", "🇮🇩", "🇮🇩", False),
    ]


def test_emoji_glued_to_words_and_hashtags_are_separate_tokens() -> None:
    assert [(r[2], r[3]) for r in rows("Selamat🎉#HUTRI🇮🇩")] == [
        ("word", "selamat"),
        ("emoji", "🎉"),
        ("hashtag", "#hutri"),
        ("hashtag_word", "hutri"),
        ("emoji", "🇮🇩"),
    ]


def test_other_scripts_are_words_that_are_their_own_stems() -> None:
    assert rows("東京 Привет مرحبا café") == [
        (0, 0, "word", "東京", "東京", "東京", False),
        (1, 0, "word", "привет", "Привет", "привет", False),
        (2, 0, "word", "مرحبا", "مرحبا", "مرحبا", False),
        (3, 0, "word", "café", "café", "café", False),  # Sastrawi would make it "caf"
    ]


def test_mathematical_bold_letters_and_full_width_text_become_plain() -> None:
    assert tokens("𝗣𝗲𝗿𝘂𝗯𝗮𝗵𝗮𝗻 𝗜𝗸𝗹𝗶𝗺 ＪＡＫＡＲＴＡ") == ["perubahan", "iklim", "jakarta"]


def test_utf8_read_as_latin1_is_repaired_and_counted() -> None:
    good = "Aksi perubahan iklim – kolaborasi “bersama” 🙏 di São Paulo"
    broken = good.encode("utf-8").decode("latin-1")
    assert "â\x80\x93" in broken
    stats = Stats()
    table = tokenise(pa.array([1, 2]), pa.array([broken, good]), stats=stats)
    first = table.filter(pa.compute.equal(table["post_id"], 1))["token"].to_pylist()
    second = table.filter(pa.compute.equal(table["post_id"], 2))["token"].to_pylist()
    assert (
        first
        == second
        == ["aksi", "perubahan", "iklim", "kolaborasi", "bersama", "🙏", "di", "são", "paulo"]
    )
    assert stats == Stats(posts=2, empty=0, cut=0, repaired=1)


def test_the_windows_1252_reading_of_an_en_dash_is_repaired() -> None:
    stats = Stats()
    table = tokenise(pa.array([1]), pa.array(["perubahan iklim â€“ aksi"]), stats=stats)
    assert table["token"].to_pylist() == ["perubahan", "iklim", "aksi"]
    assert stats.repaired == 1


def test_empty_and_blank_texts_give_no_rows_and_are_counted() -> None:
    stats = Stats()
    texts = pa.array([None, "", "   \n\t", "\u00a0", "ok"], pa.string())
    table = tokenise(pa.array([1, 2, 3, 4, 5]), texts, stats=stats)
    assert table["post_id"].to_pylist() == [5]
    assert stats == Stats(posts=5, empty=4, cut=0, repaired=0)
    assert tokenise(pa.array([], pa.int64()), pa.array([], pa.string())).num_rows == 0


def test_a_five_megabyte_caption_is_cut_and_counted_and_the_next_post_is_intact() -> None:
    huge = "Banjir di Bekasi, warga mengungsi. " * 150_000  # 5.25 MB
    paste = "x" * 5_000_000  # no white space at all
    stats = Stats()
    table = tokenise(pa.array([1, 2, 3]), pa.array([huge, paste, "yg terakhir"]), stats=stats)
    assert stats == Stats(posts=3, empty=0, cut=2, repaired=0)
    first = table.filter(pa.compute.equal(table["post_id"], 1))
    assert 0 < first.num_rows <= MAX_CHARS // 2
    assert first["token"].to_pylist()[:4] == ["banjir", "di", "bekasi", "warga"]
    second = table.filter(pa.compute.equal(table["post_id"], 2))
    assert second["token"].to_pylist() == ["x" * MAX_CHARS]
    assert table.filter(pa.compute.equal(table["post_id"], 3))["token"].to_pylist() == [
        "yang",
        "terakhir",
    ]


def test_positions_restart_for_each_post_and_follow_the_given_ids() -> None:
    table = tokenise(
        pa.chunked_array([[42, 7], [9]], pa.int64()),
        pa.chunked_array([["Dinkes Jabar", "#SehatBersama yuk"], ["🙏"]]),
    )
    assert [(r["post_id"], r["position"], r["part"], r["token"]) for r in table.to_pylist()] == [
        (42, 0, 0, "dinas"),
        (42, 0, 1, "kesehatan"),
        (42, 1, 0, "jabar"),
        (7, 0, 0, "#sehatbersama"),
        (7, 0, 1, "sehat"),
        (7, 0, 2, "bersama"),
        (7, 1, 0, "ayo"),
        (9, 0, 0, "🙏"),
    ]


def test_ids_and_texts_must_pair_up() -> None:
    with pytest.raises(ValueError, match="2 post ids but 1 texts"):
        tokenise(pa.array([1, 2]), pa.array(["a"]))


def test_the_dictionaries_are_real_and_well_formed() -> None:
    slang = project_slang()
    assert len(slang) >= 150
    for key in ["yg", "dgn", "utk", "tdk", "krn", "sdh", "blm", "bs", "gak", "ga", "nggak", "tp"]:
        assert key in slang
    assert slang["pemprov"] == ("pemerintah", "provinsi")
    assert slang["bpbd"] == ("badan", "penanggulangan", "bencana", "daerah")
    for key, expansion in slang.items():
        assert key == key.strip().lower() and " " not in key, key
        assert expansion and all(w == w.lower() for w in expansion), key
    stop = project_stopwords()
    assert {"humas", "rilis", "pukul", "wib", "yang", "the"} <= stop
    assert {"iklim", "pemerintah", "kesehatan"}.isdisjoint(stop)


def synthetic_posts(n: int) -> list[str]:
    """n government-style posts, from a small vocabulary (so the distinct words are few)."""
    openings = ["Pemprov", "Dinkes", "Warga", "Bupati", "Gubernur", "Wali kota", "BPBD"]
    verbs = ["mengajak", "menyalurkan", "meresmikan", "memantau", "membersihkan", "menanam"]
    objects = ["bantuan sosial", "pohon mangrove", "sungai", "puskesmas", "sekolah", "jalan desa"]
    tags = ["#PerubahanIklim", "#JabarJuara", "#sehatbersama", "#SDGs2030", "", "🙏", "yg keren"]
    return [
        f"{openings[i % 7]} {verbs[i % 6]} {objects[i % 5]} ke-{i % 11} {tags[i % 7]}"
        for i in range(n)
    ]


def test_100k_posts_call_the_stemmer_once_per_distinct_word_and_lex_each_piece_once() -> None:
    calls: Counter[str] = Counter()

    def stemmer(word: str) -> str:
        calls[word] += 1
        return default_lexicon().stem(word)

    lexicon = Lexicon(stemmer=stemmer)
    lexed: Counter[str] = Counter()
    lex = lexicon._lex

    def counted(piece: str):  # type: ignore[no-untyped-def]
        lexed[piece] += 1
        return lex(piece)

    lexicon._lex = counted  # type: ignore[method-assign]
    texts = synthetic_posts(100_000)
    table = tokenise(pa.array(range(100_000)), pa.array(texts), lexicon=lexicon)
    assert table.num_rows > 600_000
    words = pa.compute.is_in(table["kind"], pa.array(["word", "hashtag_word"]))
    distinct_words = set(table.filter(words)["token"].to_pylist())
    assert set(calls) == distinct_words and set(calls.values()) == {1}
    assert len(calls) < 80
    assert set(lexed.values()) == {1}
    assert len(lexed) == len({piece for text in texts for piece in text.split()})

    again = tokenise(pa.array(range(100_000)), pa.array(texts), lexicon=lexicon)
    assert again.equals(table)
    assert set(calls.values()) == {1} and set(lexed.values()) == {1}  # all from the caches


def test_a_lexicon_with_a_full_piece_cache_starts_again() -> None:
    lexicon = Lexicon(max_pieces=2)
    texts = pa.array(["satu dua tiga empat lima"])
    assert tokenise(pa.array([1]), texts, lexicon=lexicon)["token"].to_pylist() == [
        "satu",
        "dua",
        "tiga",
        "empat",
        "lima",
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=5))
def test_any_text_gives_a_well_formed_table(texts: list[str]) -> None:
    table = tokenise(pa.array(range(len(texts))), pa.array(texts, pa.string()))
    assert table.schema == SCHEMA
    seen: set[tuple[int, int, int]] = set()
    last: dict[int, tuple[int, int]] = {}
    for r in table.to_pylist():
        key = (r["post_id"], r["position"], r["part"])
        assert key not in seen
        seen.add(key)
        assert last.get(r["post_id"], (-1, 0)) < (r["position"], r["part"])
        last[r["post_id"]] = (r["position"], r["part"])
        assert r["kind"] in KINDS and r["token"] and r["display"] and r["stem"]
        assert r["part"] == 0 or r["kind"] in ("word", "hashtag_word")
        assert not r["stopword"] or r["kind"] in ("word", "hashtag_word")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcXYZrpRP.,!?;:)]}\"'-@#/0123456789é", min_size=1, max_size=12))
def test_a_plain_word_is_lexed_without_the_lexer_as_the_lexer_would(piece: str) -> None:
    lexicon = Lexicon(stemmer=str)
    fast = lexicon._lex(piece)
    try:
        tokens_module._PLAIN_WORD = re.compile(r"(?!)")  # never: every piece to the lexer
        slow = lexicon._lex(piece)
    finally:
        tokens_module._PLAIN_WORD = PLAIN_WORD
    assert fast == slow


def test_the_faster_sastrawi_gives_sastrawi_s_own_stems() -> None:
    """The stemmer with its patterns kept compiled and its prefix rules tried only where they
    can act (tokens._sastrawi) against a plain PySastrawi, on real words frequent and rare,
    Indonesian and English, affixed made-up words and reduplications."""
    from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary  # type: ignore[import-untyped]
    from Sastrawi.Stemmer.Stemmer import Stemmer  # type: ignore[import-untyped]
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-untyped]

    indonesian = [w for w in wordfreq.get_frequency_dict("id", "small") if w.isascii()]
    english = [w for w in wordfreq.get_frequency_dict("en", "small") if w.isalpha()]
    rng = random.Random(5)
    syllables = [
        "ka",
        "ba",
        "nga",
        "ran",
        "ti",
        "lu",
        "se",
        "pa",
        "kan",
        "mu",
        "ri",
        "to",
        "wa",
        "dan",
        "je",
        "gu",
        "er",
        "el",
        "in",
        "em",
    ]
    made_up = [
        rng.choice(["", "me", "mem", "meng", "meny", "di", "ber", "pe", "peng", "ter", "ke", "se",
                    "memper", "diper", "kau", "ku"])
        + "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
        + rng.choice(["", "kan", "an", "i", "nya", "lah", "kannya", "isasi", "pun"])
        for _ in range(1500)
    ]  # fmt: skip
    words = [
        *indonesian[:800], *indonesian[-800:], *english[-300:], *made_up,
        "dikoordinasikannya", "mempertanggungjawabkan", "berbalas-balasan", "meniru-nirukan",
        "menyapu", "mengebom", "belajar", "pelajar", "pelajaran", "gerigi", "kuambil", "kaulah",
    ]  # fmt: skip
    fast = [tokens_module._stem_with(tokens_module._sastrawi(), w) for w in words]
    shimmed = [m for n, m in sys.modules.items() if n.startswith("Sastrawi.") and hasattr(m, "re")]
    assert shimmed and all(isinstance(m.re, tokens_module._PatternCache) for m in shimmed)
    plain = Stemmer(ArrayDictionary(StemmerFactory().get_words()))
    try:
        for module in shimmed:
            module.re = re
        assert [tokens_module._stem_with(plain.stem, w) for w in words] == fast
    finally:
        for module in shimmed:
            module.re = tokens_module._PatternCache()
    assert "koordinasi" in fast and "sapu" in fast and "ajar" in fast


def test_a_piece_that_can_hold_no_emoji_is_not_searched_for_one() -> None:
    assert not [e for e in emoji.EMOJI_DATA if e.isascii()]  # why ASCII pieces are skipped
    assert rows("mantap👍🏽!") == [
        (0, 0, "word", "mantap", "mantap", "mantap", False),
        (1, 0, "emoji", "👍", "👍🏽", "👍", False),
    ]
