"""``/indexes``: create, list, retrieve, rename and delete indexes (v1.3 models, v1.2 engines)."""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.wrappers import Response

from uploader_app.models import ModelFamily
from uploader_app.sandbox.errors import (
    index_name_already_exists,
    parameter_invalid,
    parameter_not_provided,
    resource_not_exist,
)
from uploader_app.sandbox.paging import page_of, since_filter, sort_items
from uploader_app.sandbox.records import (
    IndexedAssetRecord,
    IndexRecord,
    TaskRecord,
    new_id,
)
from uploader_app.sandbox.routing import (
    V12,
    Call,
    Route,
    empty_response,
    json_response,
)
from uploader_app.sandbox.service import Sandbox
from uploader_app.sandbox.shapes import family_of, index_shape, model_options
from uploader_app.sandbox.store import ids_of

logger = logging.getLogger(__name__)

# Options each version accepts (docs/api-notes.md §2).
OPTIONS = {
    "v1.3": {"visual", "audio"},
    "v1.2": {"visual", "conversation", "text_in_video", "logo"},
}
ADDONS = {"thumbnail"}


def create(call: Call) -> Response:
    body = call.json()
    name = body.get("index_name")
    key, name_key, options_key = (
        ("engines", "engine_name", "engine_options")
        if call.version == V12
        else ("models", "model_name", "model_options")
    )
    missing = [k for k in ("index_name", key) if body.get(k) in (None, "", [])]
    if missing:
        raise parameter_not_provided(*missing)
    if not isinstance(name, str) or not name.strip():
        raise parameter_invalid("index_name")
    models = _models(body[key], key, name_key, options_key, OPTIONS[call.version])
    addons = body.get("addons") or []
    if not isinstance(addons, list) or not set(addons) <= ADDONS:
        raise parameter_invalid("addons", detail="The only add-on is thumbnail.")
    if addons and not any(ModelFamily.of(m["name"]) is ModelFamily.MARENGO for m in models):
        raise parameter_invalid("addons", detail="Add-ons need the Marengo model.")
    sandbox = call.sandbox
    with sandbox.store.atomic():  # two creates with one name: only the first gets it
        _check_name_is_free(sandbox, name)
        now = sandbox.clock.now()
        index = IndexRecord(new_id(), name, models, list(addons), now, now)
        sandbox.store.put(index)
    logger.info("created index %s (%s)", index.id, name)
    return json_response({"_id": index.id}, 201)


def _check_name_is_free(sandbox: Sandbox, name: str, index_id: str | None = None) -> None:
    """Call with the store held (``atomic``), so nothing takes the name before it is used."""
    taken = sandbox.store.read(
        IndexRecord, lambda indexes: any(i.name == name and i.id != index_id for i in indexes)
    )
    if taken:
        raise index_name_already_exists(name)


def _models(
    raw: object, key: str, name_key: str, options_key: str, allowed: set[str]
) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise parameter_invalid(key)
    models = []
    for item in raw:
        if not isinstance(item, dict):
            raise parameter_invalid(key)
        model_name = item.get(name_key)
        options = item.get(options_key)
        if not isinstance(model_name, str) or ModelFamily.of(model_name) is None:
            raise parameter_invalid(name_key, detail="Use a marengo or pegasus model.")
        if not isinstance(options, list) or not options or not set(options) <= allowed:
            raise parameter_invalid(
                options_key, detail=f"Use one or more of: {', '.join(sorted(allowed))}."
            )
        models.append({"name": model_name, "options": list(dict.fromkeys(options))})
    return models


def list_indexes(call: Call) -> Response:
    args = call.request.args
    page = page_of(args)
    v12 = call.version == V12
    family = args.get("engine_family" if v12 else "model_family")
    options_arg = args.get("engine_options" if v12 else "model_options")
    wanted_options = {o.strip() for o in options_arg.split(",")} if options_arg else set()
    created = since_filter(args, "created_at")
    updated = since_filter(args, "updated_at")
    if family is not None and family not in {f.value for f in ModelFamily}:
        raise parameter_invalid("engine_family" if v12 else "model_family")
    items = call.sandbox.store.all(
        IndexRecord,
        lambda i: (
            args.get("index_name") in (None, i.name)
            and args.get("_id") in (None, i.id)
            and (family is None or family in family_of(i))
            and wanted_options <= {o for m in i.models for o in model_options(m, call.version)}
            and created(i.created)
            and updated(i.updated)
        ),
    )
    items = sort_items(
        items, args, {"created_at": lambda i: i.created, "updated_at": lambda i: i.updated}
    )
    data, info = page.cut(items)
    return json_response(
        {"data": [index_shape(call.sandbox, i, call.version) for i in data], "page_info": info}
    )


def retrieve(call: Call, index_id: str) -> Response:
    return json_response(index_shape(call.sandbox, call.sandbox.index(index_id), call.version))


def rename(call: Call, index_id: str) -> Response:
    sandbox = call.sandbox
    sandbox.index(index_id)
    name = call.json().get("index_name")
    if name in (None, ""):
        raise parameter_not_provided("index_name")
    if not isinstance(name, str):
        raise parameter_invalid("index_name")

    def change(index: IndexRecord) -> None:
        index.name = name
        index.updated = sandbox.clock.now()

    with sandbox.store.atomic():
        _check_name_is_free(sandbox, name, index_id)
        if sandbox.store.update(IndexRecord, index_id, change) is None:
            raise resource_not_exist(index_id, "indexes")
    return empty_response(200)


def delete(call: Call, index_id: str) -> Response:
    """Deletes the index "and all the videos within it" (spec): its tasks and indexed assets."""
    sandbox = call.sandbox
    store = sandbox.store
    with store.atomic():  # nothing may be added to the index while it goes
        sandbox.index(index_id)
        task_ids = store.read(TaskRecord, ids_of, index_id=index_id)
        for task_id in task_ids:
            store.delete(TaskRecord, task_id)
        for item_id in store.read(IndexedAssetRecord, ids_of, index_id=index_id):
            store.delete(IndexedAssetRecord, item_id)
        store.delete(IndexRecord, index_id)
    for task_id in task_ids:
        sandbox.forget("tasks", task_id)
    return empty_response(200)


ROUTES = [
    Route("/indexes", "POST", "indexes.create", create),
    Route("/indexes", "GET", "indexes.list", list_indexes),
    Route("/indexes/<index_id>", "GET", "indexes.retrieve", retrieve),
    Route("/indexes/<index_id>", "PUT", "indexes.update", rename),
    Route("/indexes/<index_id>", "DELETE", "indexes.delete", delete),
]
