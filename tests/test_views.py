"""The shapes of ``watcher.views`` are the only copies of watcher's JSON shapes: the CLI and
the API print exactly their fields, in their order, and no other module writes one out by
hand. Datetimes keep the one format every contract has used."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.test_json_contracts import RECORDED
from watcher import views
from watcher.types import Subscriber, SubscriberStatus
from watcher.views import (
    AuditEventOut,
    CandidateBrief,
    CandidateOut,
    DeliveryOut,
    EditionOut,
    EditorOut,
    EntryOut,
    PublishOut,
    Shape,
    SourceHealthOut,
    SubscriberOut,
    TileOut,
    TokenOut,
    WebhookOut,
)
from watcher.web.api_models import CandidateDetail

PACKAGE = Path(views.__file__).resolve().parent

# Recorded contract, where its shapes are in it ("" the whole, "*" each item of a list,
# "items.*" each item of the list under "items") and which model each one is.
TILED = "api GET /api/v1/candidates/8"  # the scene's one candidate sent in tiles
SHAPED: list[tuple[str, str, type[BaseModel]]] = [
    ("cli queue", "*", CandidateOut),
    ("cli sources", "*", SourceHealthOut),
    ("cli entries", "*", EntryOut),
    ("cli editions", "*", EditionOut),
    ("cli subscribers", "*", SubscriberOut),
    ("cli webhooks", "*", WebhookOut),
    ("cli deliveries", "*", DeliveryOut),
    ("cli editors", "*", EditorOut),
    ("cli tokens", "*", TokenOut),
    ("api GET /api/v1/candidates?status=all&limit=40", "items.*", CandidateOut),
    (TILED, "", CandidateDetail),
    (TILED, "neighbours.*", CandidateBrief),
    (TILED, "tiles.*", TileOut),
    ("api GET /api/v1/entries", "items.*", EntryOut),
    ("api GET /api/v1/sources", "items.*", SourceHealthOut),
    ("api GET /api/v1/audit?limit=500", "items.*", AuditEventOut),
    ("api GET /api/v1/editors", "items.*", EditorOut),
    ("api GET /api/v1/tokens", "items.*", TokenOut),
    ("api GET /api/v1/editions", "items.*", EditionOut),
    ("api GET /api/v1/subscribers", "items.*", SubscriberOut),
    ("api GET /api/v1/webhooks", "items.*", WebhookOut),
    ("api GET /api/v1/deliveries", "items.*", DeliveryOut),
    ("api POST publish", "", PublishOut),
]


def shapes_in(value: Any, where: str) -> list[Any]:
    if not where:
        return [value]
    head, _, rest = where.partition(".")
    if head == "*":
        return [found for item in value for found in shapes_in(item, rest)]
    return shapes_in(value[head], rest)


@pytest.mark.parametrize(("name", "where", "model"), SHAPED)
def test_the_cli_and_the_api_print_exactly_the_models_fields(
    name: str, where: str, model: type[BaseModel]
) -> None:
    shown = shapes_in(RECORDED[name], where)
    assert shown, f"{name}: nothing recorded to compare"
    for shape in shown:
        assert list(shape) == list(model.model_fields)


MOMENTS = [
    datetime(2026, 8, 1, 10, 14, 3, tzinfo=UTC),
    datetime(2026, 8, 1, 10, 14, 3, 120000, tzinfo=UTC),
    datetime(2026, 8, 1, 10, 14, 3, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 8, 1, 10, 14, 3, tzinfo=timezone(timedelta(0), "GMT")),
    datetime(2026, 8, 1, 10, 14, 3),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_datetimes_keep_their_format(moment: datetime) -> None:
    """ISO 8601 as ``datetime.isoformat`` writes it, ``Z`` for UTC: what views printed
    before the shapes had models, and what pydantic alone might not keep."""
    subscriber = Subscriber(
        id=1, email="a@example.org", status=SubscriberStatus.CONFIRMED, created_at=moment
    )
    shape = SubscriberOut.of(subscriber)
    assert shape.created_at == moment
    assert shape.model_dump(mode="json")["created_at"] == moment.isoformat().replace("+00:00", "Z")
    assert shape.model_dump_json().startswith('{"id":1,')


# -- nobody else writes a shape out --------------------------------------------------------

# Dicts elsewhere that hold a shape's fields on purpose: (module, model) -> why.
NOT_SHAPES = {
    ("db/entries.py", "EntryOut"): "the audit log's record of an entry's editable fields",
    ("db/subscribers.py", "DeliveryOut"): "an outbox row as the database stores it",
    ("deliver/channels/webhook.py", "EditionOut"): "the signed webhook payload, its own contract",
}
SHAPES = [
    model
    for model in vars(views).values()
    if isinstance(model, type)
    and issubclass(model, Shape)
    and model is not Shape
    # A tile's fields are a picture's URLs and size, which sources fill by those names too.
    and model is not TileOut
]


def written_keys(node: ast.AST) -> set[str] | None:
    """The keys of a dict display or a ``dict(...)`` call made of plain names, else None."""
    if isinstance(node, ast.Dict) and node.keys:
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
        return {k for k in keys if isinstance(k, str)} if all(keys) else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        names = [k.arg for k in node.keywords]
        return {n for n in names if n} if names and all(names) else None
    return None


def hand_written_shapes(path: Path) -> set[str]:
    """The shapes whose fields a dict in ``path`` spells out: most of them, and at most two
    keys besides (a shape with a little more is still that shape)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        keys = written_keys(node)
        if not keys:
            continue
        for model in SHAPES:
            fields = set(model.model_fields)
            if len(keys - fields) <= 2 and len(keys & fields) >= max(4, len(fields) / 2):
                found.add(model.__name__)
    return found


def test_no_module_writes_a_shape_by_hand() -> None:
    modules = [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in p.parts and p.name != "views.py"
    ]
    written = {
        (str(path.relative_to(PACKAGE)), shape)
        for path in modules
        for shape in hand_written_shapes(path)
    }
    assert written - set(NOT_SHAPES) == set(), "build these with watcher.views' Model.of"


def test_the_guard_sees_a_shape_written_by_hand(tmp_path: Path) -> None:
    copy = tmp_path / "copy.py"
    copy.write_text(
        "def editor(e):\n"
        "    return {'name': e.name, 'role': e.role.value, 'disabled': e.disabled,\n"
        "            'created_at': e.created_at}\n"
    )
    assert hand_written_shapes(copy) == {"EditorOut"}
