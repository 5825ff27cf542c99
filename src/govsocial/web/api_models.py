"""The JSON API's responses as pydantic models: what /api/openapi.json describes and each answer
is checked against (the results' own records, govsocial/awards/results.py, for what
results.json holds).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from govsocial.awards.results import (
    Certainty,
    Champion,
    ComponentWeight,
    DataInfo,
    HeldNominee,
    Nominee,
    Period,
    Stability,
    Title,
)


class Links(BaseModel):
    """Where the same run is, as pages and as JSON."""

    page: str = Field(description="the run's overview page")
    results: str
    categories: str
    winners: str
    leaderboard: str
    institutions: str


class RunSummary(BaseModel):
    """A published run."""

    run_id: str = Field(description="the run's id: its folder under the published root")
    edition: str
    methodology_id: str
    methodology_version: str
    published_at: str = Field(description="when it was published (UTC, ISO 8601)")
    synthetic: bool = Field(
        description="true: computed from generated demonstration data, NOT real results"
    )
    period: Period = Field(description="the evaluation period (end exclusive)")
    links: Links


class RunList(BaseModel):
    runs: list[RunSummary] = Field(description="newest published first")


class ClusterSummary(BaseModel):
    cluster_id: str
    cluster_name: str
    considered: int = Field(description="units of the cluster with posts in the category's scope")
    eligible: int
    nominees: int
    held: int = Field(description="units held for review (a severe flag), not nominated")
    winner: str | None = Field(description="the unit the jury chose, once a jury has decided")
    url: str = Field(description="this category × cluster as JSON")


class CategorySummary(BaseModel):
    id: str
    title: Title
    unit: str = Field(description="`institution` or `account`")
    media_types: list[str] = Field(description="the media types counted; empty: all")
    components: list[ComponentWeight]
    clusters: list[ClusterSummary]


class CategoryList(BaseModel):
    run_id: str
    categories: list[CategorySummary]


class Placed(BaseModel):
    """A nominee's place by the jury (no juror, no ballot: only the tally's outcome)."""

    place: int = Field(description="1 = the winner")
    unit: str = Field(description="the institution id, or the account id as text")
    institution_id: str
    institution_name: str
    account_id: int | None
    platform: str | None
    handle: str | None
    label: str
    jury_score: float | None = Field(
        description="the jury's score under the jury's rule (standardised: mean of each "
        "juror's standardised scores; borda: mean share of the others beaten)"
    )
    jurors: int | None = Field(description="jurors whose score counts (recusals left out)")
    rank: int | None = Field(description="its rank by the numbers (results.json)")


class PanelDecision(BaseModel):
    category: str
    cluster_id: str
    jury_id: int
    closed: str = Field(description="when the jury closed (UTC, ISO 8601)")
    rule: str = Field(description="`standardised` or `borda`")
    winner: Placed | None
    placed: list[Placed]


class Trophies(BaseModel):
    institution_id: str
    institution_name: str
    trophies: int = Field(description="categories won")


class JuryChampion(BaseModel):
    rule: str = Field(description="`most_trophies` or `most_nominations`")
    institution_id: str | None = Field(description="null: no sole champion (see tied)")
    institution_name: str | None
    tied: list[str] = Field(description="the institutions still tied after the tiebreaks")
    trophies: list[Trophies]


class Winners(BaseModel):
    """What the closed juries on the run decided (empty until a jury closes)."""

    run_id: str
    decided: bool
    juries: list[int] = Field(description="the closed juries' ids, oldest first")
    closed: str | None = Field(description="when the latest closed")
    panels: list[PanelDecision] = Field(
        description="per category × cluster, the latest closed jury's places and winner"
    )
    champion: JuryChampion | None = Field(description="the latest closed jury's champion")


class Coverage(BaseModel):
    """What the data covers (coverage.json, docs/read-model.md)."""

    period: Period
    platforms: list[str]
    clusters: list[str]
    institutions: dict[str, int] = Field(description="cluster → institutions")
    accounts: dict[str, int] = Field(description="platform → registered accounts")
    posts: dict[str, dict[str, int]] = Field(description="platform → {posts, reposts}")
    post_readings: int
    follower_readings: int
    quarantined: dict[str, int] = Field(description="reason → records quarantined on import")


class RunDetail(RunSummary):
    data: DataInfo
    stability: Stability
    coverage: Coverage
    categories: list[CategorySummary]
    champion: Champion = Field(description="the standings towards the champion by the numbers")
    winners: Winners


class Panel(BaseModel):
    """One category × cluster: its nominees with their evidence, the units held for review,
    how sure the ranking is, and the jury's decision once made."""

    run_id: str
    category: str
    title: Title
    unit: str
    cluster_id: str
    cluster_name: str
    considered: int
    eligible: int
    ineligible: dict[str, int] = Field(description="reason → units not eligible")
    note: str | None
    nominees: list[Nominee]
    held: list[HeldNominee]
    certainty: Certainty
    decision: PanelDecision | None = Field(description="null until a jury has judged it")


class BoardRow(BaseModel):
    rank: int = Field(description="within its cluster, 1 = best")
    unit: str
    institution_id: str
    institution_name: str
    account_id: int | None
    platform: str | None = Field(description="account units: the account's platform")
    handle: str | None
    cluster_id: str
    cluster_name: str
    score: float = Field(description="0–1, all platforms combined")
    status: str | None = Field(description="`nominated`, `held for review` or null")
    winner: bool = Field(description="the jury chose it")
    posts: int | None
    followers: int | None
    interactions: int | None
    platforms: int = Field(description="its eligible platforms")
    components: dict[str, float] = Field(
        description="metric → percentile (0–1): combined, or on the chosen platform"
    )
    platform_rank: int | None = Field(description="with a platform: its rank there")
    platform_of: int | None = Field(description="with a platform: eligible units there")
    values: dict[str, float | None] | None = Field(
        description="with a platform: metric → its raw value there"
    )


class Board(BaseModel):
    """A leaderboard page: every eligible unit of the category (one cluster or all) with an
    account on the platform (or all), sorted, ``limit`` rows from ``offset``."""

    run_id: str
    category: str
    cluster: str | None
    platform: str | None
    sort: str
    order: str
    columns: list[str] = Field(description="the keys ``sort`` accepts for this query")
    total: int
    limit: int
    offset: int
    next: str | None = Field(description="the next page, if any")
    rows: list[BoardRow]


class InstitutionSummary(BaseModel):
    institution_id: str
    institution_name: str
    cluster_id: str
    cluster_name: str
    region: str | None
    accounts: int
    platforms: list[str]
    nominations: int
    wins: int
    url: str = Field(description="its page")
    api: str = Field(description="it as JSON")


class InstitutionList(BaseModel):
    run_id: str
    institutions: list[InstitutionSummary]


class Account(BaseModel):
    """A registered account with its period totals (accounts.parquet)."""

    account_id: int
    platform: str
    handle: str | None
    display_name: str | None
    followers: int | None = Field(description="last reading up to the period's end")
    posts: int | None = Field(description="original posts in the period")
    reposts: int | None
    interactions: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    rated_posts: int | None
    engagement_rate: float | None


class InstitutionStanding(BaseModel):
    category: str
    cluster_id: str
    unit: str
    account_id: int | None
    platform: str | None
    handle: str | None
    rank: int
    of: int = Field(description="eligible units of the category × cluster")
    score: float
    status: str | None
    winner: bool


class Week(BaseModel):
    """Original posts and interactions of one account, media type and week (weekly.parquet)."""

    account_id: int
    media_type: str
    week: int = Field(description="0 = the period's first 7 days")
    week_start: str
    posts: int
    interactions: float
    sum_rate: float | None
    rated_posts: int | None


class InstitutionTopPost(BaseModel):
    place: int
    account_id: int
    handle: str | None
    platform: str
    media_type: str
    post_id: int
    platform_post_id: str
    url: str | None
    posted_at: str | None
    interactions: int | None
    engagement_rate: float | None
    expected: float | None
    overperformance: float | None


class Institution(BaseModel):
    run_id: str
    institution_id: str
    institution_name: str
    cluster_id: str
    cluster_name: str
    region: str | None
    url: str
    accounts: list[Account]
    standings: list[InstitutionStanding]
    wins: list[PanelDecision]
    champion: bool = Field(description="the jury's overall champion")
    weekly: list[Week]
    top_posts: list[InstitutionTopPost]


class Index(BaseModel):
    runs: str
    openapi: str
    docs: str
