"""The JSON shapes of watcher's values: one model per shape, for ``watcher ... --json``, the
HTTP API (its answers and its OpenAPI document) and the editor pages alike.

``Model.of(value)`` builds a shape from its domain value and ``.model_dump(mode="json")`` is
its JSON, so no shape is written out twice. The field names, their order, null-vs-missing
and the datetime format are contracts (DESIGN.md's ``queue --json`` fields;
``tests/golden/json_contracts.json`` pins every one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Generic, Literal, Protocol, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_serializer,
)

from watcher.markup import render_markdown
from watcher.types import (
    ApiToken,
    AuditEvent,
    Candidate,
    Delivery,
    Edition,
    Editor,
    Entry,
    LeaseHolder,
    SourceHealth,
    Subscriber,
    Tile,
    Webhook,
)


def iso(value: datetime) -> str:
    """A moment as every contract writes it: ISO 8601 with ``Z`` for UTC, fractions of a
    second only when there are some (``2026-08-01T10:14:03Z``)."""
    return value.isoformat().replace("+00:00", "Z")


# A moment in a shape: a datetime in Python, ``iso`` text in JSON; the OpenAPI document
# calls it a date-time, as the JSON Schema of a datetime does.
Moment = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
CandidateState = Literal["new", "approved", "rejected", "published"]


Value = TypeVar("Value")


class Shape(BaseModel, Generic[Value]):
    """A shape's model, filled from the domain value's attributes of the same names (enums
    by their value, nested values by their own shape). ``Shape[Editor]`` is the shape of an
    editor: its ``of`` takes an ``Editor``, so a caller handing it anything else is caught
    by the type checker."""

    model_config = ConfigDict(from_attributes=True)

    @field_validator("*", mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return value.value if isinstance(value, Enum) else value

    @classmethod
    def of(cls, value: Value) -> Self:
        """The shape of ``value``, every field from its attribute of that name."""
        return cls._of(value)

    @classmethod
    def _of(cls, value: object, **given: Any) -> Self:
        """Each field from ``value``'s attribute of that name, unless ``given``."""
        names = cls.model_fields
        return cls.model_validate({n: given[n] if n in given else getattr(value, n) for n in names})


# -- the queue ----------------------------------------------------------------------------

_CANDIDATE_EXAMPLE: dict[str, Any] = {
    "id": 4211,
    "source": "perseverance",
    "external_id": "NRF_1965_0791209845_417ECM_N0880000NCAM00500_01_295J",
    "mission": "perseverance",
    "title": "Mars Perseverance Sol 1965: Right Navigation Camera (Navcam)",
    "caption": "NASA's Mars Perseverance rover acquired this image using its Right Navcam.",
    "credit": "NASA/JPL-Caltech",
    "camera": "NAVCAM_RIGHT",
    "sol": 1965,
    "taken_at": "2026-08-01T10:14:03Z",
    "mars_local_time": "15:28:38",
    "received_at": "2026-08-01T12:40:10Z",
    "first_seen_at": "2026-08-01T12:45:00Z",
    "status": "new",
    "page_url": None,
    "image_url": None,
    "thumbnail_url": None,
    "medium_url": None,
    "large_url": None,
    "full_url": None,
    "width": 1288,
    "height": 968,
    "version": 1,
    "decided_by": None,
    "decided_at": None,
    "reject_reason": None,
    "tiles": [],
    "score": 73.5,
    "score_reasons": ["colour camera", "golden hour"],
    "group": 4207,
    "group_size": 12,
    "kind": "frame",
}


class TileOut(Shape[Tile]):
    """One piece of a frame NASA sent in tiles: where it sits and its files."""

    imageid: str
    left: int = Field(description="NASA's subframeRect: 1-based column of the left edge.")
    top: int
    width: int
    height: int
    thumbnail_url: str | None
    medium_url: str | None
    large_url: str | None
    full_url: str | None


class CandidateOut(Shape[Candidate]):
    """A candidate as ``watcher queue --json`` prints it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CANDIDATE_EXAMPLE]})

    id: int
    source: str
    external_id: str
    mission: str | None
    title: str
    caption: str
    credit: str | None
    camera: str | None
    sol: int | None
    taken_at: Moment | None
    mars_local_time: str | None
    received_at: Moment | None
    first_seen_at: Moment | None
    status: CandidateState
    page_url: str | None
    image_url: str | None = Field(description="The largest rendition known.")
    thumbnail_url: str | None
    medium_url: str | None
    large_url: str | None
    full_url: str | None
    width: int | None
    height: int | None
    version: int = Field(description="Grows with each decision; send it back to decide.")
    decided_by: str | None
    decided_at: Moment | None
    reject_reason: str | None
    tiles: list[TileOut] = Field(
        default_factory=list,
        description="A frame NASA sent in tiles: every tile seen, its own files included.",
    )
    score: float | None = Field(
        None, description="Curation's score, 0..100 (null until computed); it only orders."
    )
    score_reasons: list[str] = Field(default_factory=list, description="The score's reasons.")
    group: int | None = Field(
        None, description="The group's id, shared by all its members; null when alone."
    )
    group_size: int = Field(1, description="Frames in the group (1 when alone).")
    kind: Literal["frame", "sequence"] = Field(
        "frame", description="`sequence`: a frame of a sequence, offered as an animation."
    )


class CandidateCardOut(CandidateOut):
    """One card of the grouped queue: the group's hero frame with its members."""

    members: list[int] | None = Field(
        None,
        description="Grouped listings only: the group's candidate ids in the card's status, "
        "in taken order (the card's own id when alone).",
    )

    @model_serializer(mode="wrap")
    def _without_members(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An ungrouped listing's card is exactly a ``CandidateOut``: no ``members``."""
        shaped: dict[str, Any] = handler(self)
        if shaped.get("members", 0) is None:
            del shaped["members"]
        return shaped

    @classmethod
    def of(cls, value: Candidate) -> Self:
        """A card of an ungrouped listing: no members."""
        return cls._of(value, members=None)

    @classmethod
    def with_members(cls, hero: Candidate, members: Sequence[Candidate]) -> Self:
        """``hero``'s card; ``members``: its group's candidates in taken order, of which
        the ones in the hero's status are listed (a script can decide them all)."""
        ids = [m.id for m in members if m.status == hero.status]
        return cls._of(hero, members=ids or [hero.id])


class CandidateBrief(Shape[Candidate]):
    """A candidate in a list of neighbours: enough for a thumbnail strip."""

    id: int
    title: str
    camera: str | None
    sol: int | None
    taken_at: Moment | None
    status: CandidateState
    thumbnail_url: str | None


# A source's health at a glance: ``watcher sources``, ``/healthz``, the API.
class SourceHealthOut(Shape[SourceHealth]):
    name: str
    kind: str
    url: str
    enabled: bool
    interval_seconds: float
    health: Literal["ok", "pending", "failing", "disabled"]
    last_attempt_at: Moment | None
    last_success_at: Moment | None
    last_error: str | None
    last_error_at: Moment | None
    consecutive_failures: int
    next_poll_at: Moment | None
    cursor: str | None
    candidates: int


def source_health_json(health: SourceHealth) -> dict[str, Any]:
    """For ``/healthz``, which sends plain dicts."""
    return SourceHealthOut.of(health).model_dump(mode="json")


# -- the running list and the audit log -------------------------------------------------------


class EntryOut(Shape[Entry]):
    """An entry of the running list."""

    id: int
    heading: str
    body: str = Field(description="The editor's paragraph (Markdown subset).")
    body_html: str = Field(description="``body`` rendered and sanitised.")
    alt_text: str
    credit: str
    rendition: Literal["medium", "large", "full"]
    position: int
    status: Literal["published", "unpublished", "draft"] = Field(
        description=(
            "`published`: on the public list, the feeds and the mail. `unpublished`: taken "
            "off it. `draft`: approved without a heading and a paragraph (while `[publish] "
            "require_words` is on); never public until an editor writes both and publishes "
            "it (PATCH `status` to `published`)."
        )
    )
    version: int = Field(description="Send it back (or If-Match) to edit or delete.")
    candidate_ids: list[int] = Field(description="Its frames, in order.")
    created_by: str
    created_at: Moment | None
    updated_by: str
    updated_at: Moment | None

    @classmethod
    def of(cls, entry: Entry) -> Self:
        return cls._of(entry, body_html=render_markdown(entry.body))


class AuditEventOut(Shape[AuditEvent]):
    id: int
    at: Moment | None
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    undone_by: int | None = Field(description="The id of the event that undid this one.")


# -- accounts -------------------------------------------------------------------------------


class EditorOut(Shape[Editor]):
    name: str
    role: Literal["admin", "editor"]
    disabled: bool
    created_at: Moment | None
    last_login_at: Moment | None


class TokenOut(Shape[ApiToken]):
    """An API token as listed: never its secret."""

    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    scope: Literal["read", "write"]
    created_by: str
    created_at: Moment | None
    last_used_at: Moment | None
    revoked_at: Moment | None


# -- the publication -----------------------------------------------------------------------


class EditionOut(Shape[Edition]):
    """One publish that changed something. Ids are entry ids."""

    number: int
    published_at: Moment | None
    added: list[int]
    changed: list[int]
    removed: list[int]
    reordered: bool
    site_changed: bool = Field(description="The title or intro changed.")
    entries: int = Field(description="How many entries the list held.")


class LeaseOut(Shape[LeaseHolder]):
    """Who holds a named lease: what a busy answer shows instead of ``busy`` alone."""

    name: str = Field(description="The lease: `publish`, `poll:<source>` or `curate`.")
    owner: str
    host: str | None = Field(description="The holder's host name; null when not recorded.")
    pid: int | None = Field(description="The holder's process id; null when not recorded.")
    since: Moment | None
    until: Moment = Field(description="When the lease lapses unless its holder renews it.")


class Publication(Protocol):
    """What a publish reports (the facade's ``PublishReport``), as far as it is shown."""

    @property
    def edition(self) -> Edition | None: ...
    @property
    def changed(self) -> bool: ...
    @property
    def busy(self) -> bool: ...
    @property
    def entries(self) -> int: ...
    @property
    def deliveries(self) -> int: ...
    @property
    def held_by(self) -> LeaseHolder | None: ...


class PublishOut(Shape[Publication]):
    edition: EditionOut | None = Field(description="The new edition; null when nothing changed.")
    changed: bool
    busy: bool = Field(description="Another publisher (a replica) was publishing just then.")
    entries: int
    deliveries: int = Field(description="Deliveries queued for the new edition.")
    held_by: LeaseOut | None = Field(
        default=None, description="Who held the `publish` lease when busy; else null."
    )


class SubscriberOut(Shape[Subscriber]):
    id: int
    email: str
    status: Literal["pending", "confirmed", "unsubscribed"]
    created_at: Moment | None
    confirmed_at: Moment | None
    unsubscribed_at: Moment | None


class WebhookOut(Shape[Webhook]):
    id: int
    url: str
    enabled: bool
    created_by: str
    created_at: Moment | None
    consecutive_failures: int
    disabled_reason: str | None
    last_success_at: Moment | None
    last_error: str | None
    last_error_at: Moment | None


class DeliveryOut(Shape[Delivery]):
    id: int
    edition: int | None
    channel: Literal["email", "confirm", "webhook", "websub", "apprise"]
    target: str
    key: str = Field(description="The idempotency key: Message-ID / X-Watcher-Delivery.")
    status: Literal["pending", "sent", "dead"]
    attempts: int
    next_attempt_at: Moment | None
    created_at: Moment | None
    sent_at: Moment | None
    last_error: str | None
