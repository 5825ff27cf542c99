"""The words of the results site: labels of the run's names, and the engine's sentences in the
reader's language.

The results document names things by id (``engagement_rate``, ``min_posts``, ``like_comment_ratio``)
and states some findings as English sentences (how sure a ranking is, why a cluster has fewer
nominees, a flag's detail). The site shows labels for the ids and composes the sentences again
from the document's numbers in the reader's language, with the engine's own wording as the
English text: ``tests/reports/test_site.py`` checks that the English composition equals the
document's sentence, so the Indonesian one says the same. A sentence of a form this module does
not know is shown as the engine wrote it, marked as English (``lang="en"``).

Every English text here is a message of the ``site`` catalogue (``N_`` marks it for
extraction; ``Language.gettext`` translates it when shown).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govsocial.reports.i18n import N_, Language
from govsocial.vocabulary import PLATFORM_NAMES

MEDIA_TYPES = {
    "image": N_("image"),
    "video": N_("video"),
    "text": N_("text"),
    "link": N_("link"),
    "carousel": N_("carousel"),
    "reel": N_("reel"),
}

UNITS = {"institution": N_("institution"), "account": N_("account")}

STATUS = {"nominated": N_("Nominee"), "held for review": N_("Held for review")}

SEVERITY = {"severe": N_("severe"), "info": N_("for the jury")}


@dataclass(frozen=True)
class MetricText:
    """How the site names a metric, says what it measures, and how it shows its values."""

    label: str  # short name
    words: str  # what it measures, in plain words
    kind: str  # how a value is shown: "share" (a fraction shown as %), "rate" (a small
    # fraction, %), "growth" (signed %), "number" (one decimal), "percent" (already 0-100)


METRICS: dict[str, MetricText] = {
    "posts_per_week": MetricText(
        N_("Posts per week"),
        N_(
            "How often the unit publishes: its original posts in the period (reposts and "
            "replies to others left out) divided by the weeks of the period."
        ),
        "number",
    ),
    "active_weeks_share": MetricText(
        N_("Active weeks"),
        N_(
            "How steadily the unit publishes: the share of the period's weeks in which it "
            "published at least one original post."
        ),
        "share",
    ),
    "engagement_rate": MetricText(
        N_("Engagement rate"),
        N_(
            "How much the audience responds relative to its size: each post's interactions "
            "divided by the followers the account had when it posted, typical over the unit's "
            "posts, and pulled toward the average of comparable accounts (same platform and "
            "cluster) the fewer posts it rests on (shrinkage, see below)."
        ),
        "rate",
    ),
    "engagement_rate_raw": MetricText(
        N_("Engagement rate (unshrunk)"),
        N_(
            "The plain average over the unit's posts of interactions divided by the followers "
            "at posting time, without shrinkage: for comparison."
        ),
        "rate",
    ),
    "interactions_per_post": MetricText(
        N_("Interactions per post"),
        N_("The average number of interactions (reactions, comments, shares) per post."),
        "number",
    ),
    "view_rate": MetricText(
        N_("View rate"),
        N_(
            "How widely the unit's videos are watched relative to its audience: views divided "
            "by the followers at posting time, averaged over the posts that have a view count."
        ),
        "rate",
    ),
    "follower_growth": MetricText(
        N_("Follower growth"),
        N_(
            "How much the audience grew over the period: followers at its end divided by "
            "followers at its start, minus one (0.10 = grew 10%). Only measured when both "
            "readings lie within 45 days of the period's start and end."
        ),
        "growth",
    ),
    "theme_share": MetricText(
        N_("Theme share"),
        N_("How much the unit talks about the category's theme: its on-theme posts' share."),
        "share",
    ),
    "theme_engagement_rate": MetricText(
        N_("Theme engagement rate"),
        N_("The engagement rate (with shrinkage) of the unit's on-theme posts only."),
        "rate",
    ),
    "collaboration_mention_share": MetricText(
        N_("Mentions of other institutions"),
        N_(
            "How often the unit works with others in public: the share of its posts that "
            "@mention an account of another registered institution (its own accounts do not "
            "count)."
        ),
        "share",
    ),
    "shared_hashtag_share": MetricText(
        N_("Shared hashtags"),
        N_(
            "The share of the unit's posts carrying a hashtag that at least one other "
            "registered institution also used in the period."
        ),
        "share",
    ),
    "bonson_p1": MetricText(
        N_("Popularity P1"),
        N_("Bonsón & Ratkai's popularity: the percentage of posts with at least one like."),
        "percent",
    ),
    "bonson_p2": MetricText(
        N_("Popularity P2"), N_("Bonsón & Ratkai's popularity: likes per post."), "number"
    ),
    "bonson_p3": MetricText(
        N_("Popularity P3"),
        N_("Bonsón & Ratkai's popularity: likes per post per 1,000 followers."),
        "number",
    ),
    "bonson_c1": MetricText(
        N_("Commitment C1"),
        N_("Bonsón & Ratkai's commitment: the percentage of posts with at least one comment."),
        "percent",
    ),
    "bonson_c2": MetricText(
        N_("Commitment C2"), N_("Bonsón & Ratkai's commitment: comments per post."), "number"
    ),
    "bonson_c3": MetricText(
        N_("Commitment C3"),
        N_("Bonsón & Ratkai's commitment: comments per post per 1,000 followers."),
        "number",
    ),
    "bonson_v1": MetricText(
        N_("Virality V1"),
        N_("Bonsón & Ratkai's virality: the percentage of posts shared at least once."),
        "percent",
    ),
    "bonson_v2": MetricText(
        N_("Virality V2"), N_("Bonsón & Ratkai's virality: shares per post."), "number"
    ),
    "bonson_v3": MetricText(
        N_("Virality V3"),
        N_("Bonsón & Ratkai's virality: shares per post per 1,000 followers."),
        "number",
    ),
    "bonson_e": MetricText(
        N_("Engagement E"),
        N_("Bonsón & Ratkai's stakeholder engagement: P3 + C3 + V3."),
        "number",
    ),
}

TIEBREAKERS = {
    "posts": N_("more original posts"),
    "interactions": N_("more interactions in total"),
    "platforms": N_("more eligible platforms"),
    "followers": N_("fewer followers (the smaller audience wins a tie)"),
    "id": N_("the id, alphabetically first"),
}

FLAGS = {
    "implausible_counts": (
        N_("Implausible counts"),
        N_("Counts that no audience of the account's size explains: held for review."),
    ),
    "engagement_above_audience": (
        N_("Interactions above the audience"),
        N_("At least 5% of the posts got more interactions than the account had followers."),
    ),
    "like_comment_ratio": (
        N_("Unusual likes per comment"),
        N_(
            "Likes per comment more than 4 times or less than a quarter of the median of "
            "comparable accounts: a sign of bought likes, for the jury to look at."
        ),
    ),
    "engagement_spikes": (
        N_("Engagement spikes"),
        N_("Several weeks with far more interactions than the account's usual week."),
    ),
    "followers_unknown": (
        N_("Followers unknown"),
        N_(
            "Posts without a follower reading near enough to them: they count for activity, "
            "not for engagement rates."
        ),
    ),
}
FLAG_LABELS = {name: texts[0] for name, texts in FLAGS.items()}
FLAG_MEANINGS = {name: texts[1] for name, texts in FLAGS.items()}


def label(lang: Language, labels: Mapping[str, str], key: str, default: str | None = None) -> str:
    """The label of ``key`` in one of the tables above, translated; ``default`` (else the key
    itself) for a key the table does not have."""
    if key in labels:
        return lang.gettext(labels[key])
    return key if default is None else default


def metric_label(lang: Language, metric: str) -> str:
    text = METRICS.get(metric)
    return lang.gettext(text.label) if text else metric


def ineligible_label(lang: Language, reason: str) -> str:
    """What an ineligibility reason of the results means."""
    labels = {
        "min_posts": N_("too few posts"),
        "min_active_weeks": N_("too few active weeks"),
        "min_followers": N_("too few followers"),
        "min_platforms": N_("too few eligible platforms"),
    }
    if reason in labels:
        return lang.gettext(labels[reason])
    if reason.startswith("no_"):
        return lang.gettext("no value for {metric}", metric=metric_label(lang, reason[3:]))
    return reason


def metric_value(lang: Language, metric: str, value: float | None) -> str:
    """A metric's raw value as a reader takes it: a rate or share as a percentage."""
    if value is None:
        return "–"
    kind = METRICS[metric].kind if metric in METRICS else "number"
    if kind == "rate":
        return lang.percent(value, 2)
    if kind == "share":
        return lang.percent(value, 1)
    if kind == "growth":
        return ("+" if value > 0 else "") + lang.percent(value, 1)
    if kind == "percent":
        return lang.number(value, 1) + "%"
    return lang.number(value, 2 if abs(value) < 10 else 1)


def ordinal(lang: Language, n: int) -> str:
    """3 → '3rd' (en) or 'ke-3' (id)."""
    if lang.lang == "id":
        return f"ke-{n}"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _listing(lang: Language, items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return lang.gettext("{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


def _percent(lang: Language, share: float) -> str:
    return lang.percent(share, 0)


# ------------------------------------------------------------------ how sure (certainty)


def certainty_sentence(
    lang: Language, cluster: Mapping[str, Any], replicates: int, stays: float, enters: float
) -> str:
    """The cluster's certainty statement, composed from its nominees' and challengers'
    stability (awards/stability.py ``verdict`` writes the English one)."""
    nominees = [float(n["stability"]) for n in cluster["nominees"]]
    by_place = {int(c["place"]): float(c["stability"]) for c in cluster["certainty"]["challengers"]}
    years = (
        lang.gettext("1 resampled year")
        if replicates == 1
        else lang.gettext("{n} resampled years", n=lang.number(replicates))
    )
    if not nominees:
        return lang.gettext("No nominees: nothing to be sure of.")
    shaky = [(p, s) for p, s in enumerate(nominees, start=1) if s < stays]
    rising = [(p, by_place[p]) for p in sorted(by_place) if by_place[p] > enters]
    if not shaky and not rising:
        first = len(nominees) + 1
        tail = (
            lang.gettext(
                ", and the first non-nominee becomes one in {share}",
                share=_percent(lang, by_place[first]),
            )
            if first in by_place
            else ""
        )
        return lang.gettext(
            "Clear: every nominee stays a nominee in at least {share} of {years}{tail}.",
            share=_percent(lang, min(nominees)),
            years=years,
            tail=tail,
        )
    places = [p for p, _ in [*shaky, *rising]]
    listed = _listing(lang, [ordinal(lang, p) for p in places])
    parts = []
    if shaky:
        parts.append(
            "; ".join(
                lang.gettext(
                    "the {place} stays a nominee in {share}",
                    place=ordinal(lang, p),
                    share=_percent(lang, s),
                )
                for p, s in shaky
            )
        )
    if rising:
        parts.append(
            "; ".join(
                lang.gettext(
                    "the {place} becomes one in {share}",
                    place=ordinal(lang, p),
                    share=_percent(lang, s),
                )
                for p, s in rising
            )
        )
    detail = lang.gettext("over {years}, {parts}", years=years, parts="; ".join(parts))
    if len(places) == 1:
        return lang.gettext(
            "The {listed} place is not sure: {detail}.", listed=listed, detail=detail
        )
    return lang.gettext(
        "The {listed} places are statistically indistinguishable: {detail}.",
        listed=listed,
        detail=detail,
    )


# ------------------------------------------------------------------ a cluster's note


def _units(lang: Language, n: int) -> str:
    return lang.gettext("1 unit") if n == 1 else lang.gettext("{n} units", n=lang.number(n))


def _ranks(lang: Language, ranks: Sequence[int]) -> str:
    if len(ranks) == 1:
        return lang.gettext("rank {rank}", rank=ranks[0])
    return lang.gettext(
        "ranks {ranks} and {last}", ranks=", ".join(map(str, ranks[:-1])), last=ranks[-1]
    )


def cluster_note(lang: Language, cluster: Mapping[str, Any], wanted: int) -> str | None:
    """Why the cluster did not simply get ``wanted`` nominees (the engine's ``cluster_note``),
    or None."""
    considered, eligible = int(cluster["considered"]), int(cluster["eligible"])
    if considered == 0:
        return lang.gettext(
            "No units of this cluster have posts in this category's scope: no nominees."
        )
    if eligible == 0:
        return lang.gettext(
            "None of the {units} with posts is eligible (see 'ineligible'): no nominees.",
            units=_units(lang, considered),
        )
    sentences = []
    held = [int(h["rank"]) for h in cluster["held"]]
    if held:
        stand_ins = [int(n["rank"]) for n in cluster["nominees"] if int(n["rank"]) > wanted]
        sentence = lang.gettext(
            "Held for review (a severe flag, see 'held'): {ranks}.", ranks=_ranks(lang, held)
        )
        if stand_ins:
            sentence += " " + (
                lang.gettext(
                    "Nominated in its place: the next eligible, {ranks}.",
                    ranks=_ranks(lang, stand_ins),
                )
                if len(held) == 1
                else lang.gettext(
                    "Nominated in their place: the next eligible, {ranks}.",
                    ranks=_ranks(lang, stand_ins),
                )
            )
        sentences.append(sentence)
    nominated = len(cluster["nominees"])
    if nominated < wanted:
        held_part = lang.gettext(", {n} of them held for review", n=len(held)) if held else ""
        nominees = (
            lang.gettext("1 nominee")
            if nominated == 1
            else lang.gettext("{n} nominees", n=lang.number(nominated))
        )
        sentences.append(
            lang.gettext(
                "{nominees} instead of {wanted}: only {eligible} of the {units} with posts "
                "is eligible (see 'ineligible'){held}.",
                nominees=nominees,
                wanted=wanted,
                eligible=lang.number(eligible),
                units=_units(lang, considered),
                held=held_part,
            )
            if eligible == 1
            else lang.gettext(
                "{nominees} instead of {wanted}: only {eligible} of the {units} with posts "
                "are eligible (see 'ineligible'){held}.",
                nominees=nominees,
                wanted=wanted,
                eligible=lang.number(eligible),
                units=_units(lang, considered),
                held=held_part,
            )
        )
    return " ".join(sentences) or None


# ------------------------------------------------------------------ engine sentences


@dataclass(frozen=True)
class Said:
    """A sentence to show, and its language when it is not the page's (``lang="en"``)."""

    text: str
    lang: str | None = None


def _num(lang: Language, text: str) -> str:
    """An English-formatted number of an engine sentence ('1,234', '44.1') in ``lang``."""
    value = float(text.replace(",", ""))
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return lang.number(value, decimals)


_Values = Callable[[Language, re.Match[str], Mapping[str, str]], dict[str, str]]
_Rule = tuple[re.Pattern[str], str, _Values]
_N = r"([\d,]+(?:\.\d+)?)"

_FLAG_DETAILS: list[_Rule] = [
    (
        re.compile(
            rf"^{_N} likes per comment against a median of {_N} for (\w+) accounts in "
            r"cluster (\S+)$"
        ),
        N_(
            "{ratio} likes per comment against a median of {median} for {platform} accounts in "
            "cluster {cluster}"
        ),
        lambda lang, m, names: {
            "ratio": _num(lang, m[1]),
            "median": _num(lang, m[2]),
            "platform": PLATFORM_NAMES.get(m[3], m[3]),
            "cluster": names.get(m[4], m[4]),
        },
    ),
    (
        re.compile(
            rf"^no comments likes per comment against a median of {_N} for (\w+) "
            r"accounts in cluster (\S+)$"
        ),
        N_(
            "no comments at all, against a median of {median} likes per comment for {platform} "
            "accounts in cluster {cluster}"
        ),
        lambda lang, m, names: {
            "median": _num(lang, m[1]),
            "platform": PLATFORM_NAMES.get(m[2], m[2]),
            "cluster": names.get(m[3], m[3]),
        },
    ),
    (
        re.compile(
            rf"^{_N} of {_N} posts? got more interactions than the account had "
            r"followers$"
        ),
        N_("{above} of {posts} posts got more interactions than the account had followers"),
        lambda lang, m, names: {"above": _num(lang, m[1]), "posts": _num(lang, m[2])},
    ),
    (
        re.compile(
            rf"^{_N} of {_N} active weeks above 5× its median week \({_N} interactions "
            r"per post\)$"
        ),
        N_(
            "{spikes} of {weeks} active weeks above 5× its median week ({typical} interactions "
            "per post)"
        ),
        lambda lang, m, names: {
            "spikes": _num(lang, m[1]),
            "weeks": _num(lang, m[2]),
            "typical": _num(lang, m[3]),
        },
    ),
    (
        re.compile(
            rf"^none of its {_N} posts? has a follower reading near enough to it: they "
            r"count for activity, not for engagement rates$"
        ),
        N_(
            "none of its {posts} posts has a follower reading near enough to it: they count for "
            "activity, not for engagement rates"
        ),
        lambda lang, m, names: {"posts": _num(lang, m[1])},
    ),
    (
        re.compile(
            rf"^{_N} of its {_N} posts? have no follower reading near enough to them: "
            r"they count for activity, not for engagement rates$"
        ),
        N_(
            "{unknown} of its {posts} posts have no follower reading near enough to them: they "
            "count for activity, not for engagement rates"
        ),
        lambda lang, m, names: {"unknown": _num(lang, m[1]), "posts": _num(lang, m[2])},
    ),
]

_NOTES: list[_Rule] = [
    (
        re.compile(
            r"^(\w+) not shrunk in (\w+) × (\S+): only (\d+) eligible units? with "
            r"interactions on their posts; estimating the prior needs at least 4\.$"
        ),
        N_(
            "{metric} not shrunk on {platform} in cluster {cluster}: only {units} eligible with "
            "interactions on their posts; estimating the prior needs at least 4."
        ),
        lambda lang, m, names: {
            "metric": metric_label(lang, m[1]),
            "platform": PLATFORM_NAMES.get(m[2], m[2]),
            "cluster": names.get(m[3], m[3]),
            "units": _units(lang, int(m[4])),
        },
    ),
    (
        re.compile(
            r"^(\w+) not shrunk in (\w+) × (\S+): no eligible unit has two posts with "
            r"interactions, so the noise of a unit's mean cannot be measured\.$"
        ),
        N_(
            "{metric} not shrunk on {platform} in cluster {cluster}: no eligible unit has two "
            "posts with interactions, so the noise of a unit's mean cannot be measured."
        ),
        lambda lang, m, names: {
            "metric": metric_label(lang, m[1]),
            "platform": PLATFORM_NAMES.get(m[2], m[2]),
            "cluster": names.get(m[3], m[3]),
        },
    ),
    (
        re.compile(
            r"^(\w+) not shrunk in (\w+) × (\S+): every post of each eligible unit has "
            r"the same rate, so there is no sampling noise to correct\.$"
        ),
        N_(
            "{metric} not shrunk on {platform} in cluster {cluster}: every post of each eligible "
            "unit has the same rate, so there is no sampling noise to correct."
        ),
        lambda lang, m, names: {
            "metric": metric_label(lang, m[1]),
            "platform": PLATFORM_NAMES.get(m[2], m[2]),
            "cluster": names.get(m[3], m[3]),
        },
    ),
    (
        re.compile(
            r"^(\w+) in (\w+) × (\S+): the (\d+) eligible units differ no more than "
            r"their sampling noise \(τ² = 0\), so every rate keeps the same fraction "
            r"2/\(k − 1\) = ([\d.e-]+) of its distance to the stratum's mean and the "
            r"order is that of the unshrunk rates\.$"
        ),
        N_(
            "{metric} on {platform} in cluster {cluster}: the {units} eligible differ no more "
            "than their sampling noise (τ² = 0), so every rate keeps the same fraction "
            "2/(k − 1) = {fraction} of its distance to the stratum's mean and the order is "
            "that of the unshrunk rates."
        ),
        lambda lang, m, names: {
            "metric": metric_label(lang, m[1]),
            "platform": PLATFORM_NAMES.get(m[2], m[2]),
            "cluster": names.get(m[3], m[3]),
            "units": _units(lang, int(m[4])),
            "fraction": lang.number(float(m[5])),
        },
    ),
]


def _say(lang: Language, text: str, rules: list[_Rule], clusters: Mapping[str, str]) -> Said:
    if lang.lang == "en":
        return Said(text)
    for pattern, message, values in rules:
        if found := pattern.match(text):
            return Said(lang.gettext(message, **values(lang, found, clusters)))
    return Said(text, "en")  # a form this version does not know: as the engine wrote it


def flag_detail(lang: Language, detail: str, clusters: Mapping[str, str] | None = None) -> Said:
    """A flag's detail (metrics/evidence.py) in ``lang``; ``clusters``: id → name."""
    return _say(lang, detail, _FLAG_DETAILS, clusters or {})


def category_note(lang: Language, note: str, clusters: Mapping[str, str] | None = None) -> Said:
    """A category's note (metrics/formulas.py) in ``lang``; ``clusters``: id → name."""
    return _say(lang, note, _NOTES, clusters or {})


def champion_explanation(lang: Language, champion: Mapping[str, Any]) -> Said:
    """The champion rule in words (the engine's ``CHAMPION_RULES`` text, translated in the
    catalogue), and why no champion is named when the rule could but did not."""
    from govsocial.awards.engine import CHAMPION_RULES

    explanation = str(champion["explanation"])
    rule = CHAMPION_RULES.get(str(champion["rule"]))
    if lang.lang == "en" or rule is None or not explanation.startswith(rule):
        return Said(explanation, None if lang.lang == "en" else "en")
    text = lang.gettext(rule)
    if not champion["standings"]:
        text += " " + lang.gettext("No institution has a nominee.")
    elif champion["rule"] == "most_nominations" and not champion["decided"]:
        leaders = [s["institution_name"] for s in champion["standings"] if s["position"] == 1]
        text += " " + lang.gettext(
            "{tied} tie on nominations and first places: the rule does not separate them, "
            "so no champion is named.",
            tied=", ".join(leaders),
        )
    return Said(text)
