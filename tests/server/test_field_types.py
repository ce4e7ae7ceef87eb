"""Every text a request brings in goes through the one text type (server.contract.fields.Text): the bodies of the
device API and every query, path and form parameter of the API and the console."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo

from server.contract.fields import check_text


def _guards(metadata: list[Any] | tuple[Any, ...]) -> bool:
    return any(isinstance(m, AfterValidator) and m.func is check_text for m in metadata)


def _bare_text(tp: Any, guarded: bool = False, seen: frozenset[type] = frozenset()) -> list[str]:
    """Where `tp` holds a str that is not the checked text type."""
    if tp is str:
        return [] if guarded else ["str"]
    origin = get_origin(tp)
    if origin is Annotated:
        base, *metadata = get_args(tp)
        return _bare_text(base, guarded or _guards(metadata), seen)
    if isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
        found = []
        for name, field in tp.model_fields.items():
            found += [f"{tp.__name__}.{name}" for _ in _field_bare(field, seen | {tp})]
        return found
    if origin in (Union, types.UnionType, list, dict, tuple, set, frozenset):
        return [hit for arg in get_args(tp) for hit in _bare_text(arg, guarded, seen)]
    return []


def _field_bare(field: FieldInfo, seen: frozenset[type] = frozenset()) -> list[str]:
    return _bare_text(field.annotation, _guards(field.metadata), seen)


def _params(dependant: Dependant) -> list[Any]:
    """Query, path and body (JSON or form) parameters of a route and of every dependency it has."""
    found = [*dependant.query_params, *dependant.path_params, *dependant.body_params]
    for sub in dependant.dependencies:
        found += _params(sub)
    return found


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every route, also those of included routers (kept as their own router until first served)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def test_every_request_text_is_the_checked_text_type(app: FastAPI) -> None:
    unchecked, checked = [], 0
    for route in _api_routes(app.routes):
        for param in _params(route.dependant):
            checked += 1
            if _field_bare(param.field_info):
                unchecked.append(f"{route.path} {param.name}")
    assert checked > 50 and unchecked == []
