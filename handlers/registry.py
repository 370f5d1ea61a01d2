"""The service operations that diagrams call, by the name used in `spiffworkflow:serviceTaskOperator`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers.context import HandlerContext

Operation = Callable[..., dict[str, Any]]
PREFIX = "fangtiao/"

OPERATIONS: dict[str, Operation] = {}


class HandlerError(Exception):
    """A handler refusing to go on; the message is Chinese and shown to the user as it is."""


def operation(name: str) -> Callable[[Operation], Operation]:
    def register(fn: Operation) -> Operation:
        key = PREFIX + name
        if key in OPERATIONS:
            raise RuntimeError(f"service operation {key} registered twice")
        OPERATIONS[key] = fn
        return fn

    return register


def call(name: str, ctx: HandlerContext, params: dict[str, Any]) -> dict[str, Any]:
    fn = OPERATIONS.get(name)
    if fn is None:
        raise HandlerError(f"未知的服务操作：{name}")
    return fn(ctx, **params)
