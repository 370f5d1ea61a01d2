"""The expression rule: what a gateway condition, a timer, a service task's parameter or a DMN cell may say.

SpiffWorkflow evaluates these texts with Python's eval, and policy officers edit them in the browser, so
they are limited to what the procedure needs (README, "表达式规则"), checked before deployment and again
by the script engine before every evaluation:

* constants (text, numbers, True, False, None) and tuples or lists of them;
* names of case data, and subscripts of them (``acceptance["accepted_at"]``);
* comparisons (``== != < <= > >= in not in is is not``), ``and or not``, ``+`` and ``-``, and
  ``a if condition else b``;
* calls of the calendar functions the engine offers (``deadline_days`` …), of ``len min max abs int str``,
  and of the methods ``get`` and ``strip`` on data.

Nothing else: no statements, imports, lambdas, comprehensions, f-strings, other attributes, no name or
attribute starting with ``_`` and no other built-in (``open``, ``eval``, ``exec``, ``__import__`` …).
Without ``*`` and ``**`` an expression cannot build a huge value, and its length is limited.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable
from functools import lru_cache

from orchestration.errors import FangtiaoError

MAX_LENGTH = 1000
BUILTIN_FUNCTIONS = frozenset({"len", "min", "max", "abs", "int", "str"})
METHODS = frozenset({"get", "strip"})
# Built-ins an expression may not name: everything Python offers except the functions above.
_FORBIDDEN_BUILTINS = frozenset(dir(builtins)) - BUILTIN_FUNCTIONS - {"True", "False", "None"}

_COMPARISONS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_PLAIN = (
    ast.Expression,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Subscript,
    ast.Compare,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.IfExp,
    ast.Load,
    *_COMPARISONS,
)


class ExpressionRefused(FangtiaoError):
    """An expression outside the rule; the message names what is not allowed."""

    status = 422


def problems(expression: str, functions: Iterable[str]) -> list[str]:
    """What breaks the rule in the expression, in Chinese; empty when it keeps to it."""
    return list(_problems(expression, frozenset(functions)))


@lru_cache(maxsize=4096)
def _problems(expression: str, functions: frozenset[str]) -> tuple[str, ...]:
    if len(expression) > MAX_LENGTH:
        return (f"表达式过长（{len(expression)} 个字符，上限 {MAX_LENGTH}）",)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        return (f"表达式写法有误：{exc.msg}",)
    except (MemoryError, RecursionError, ValueError):
        return ("表达式嵌套过深或含有无法识别的字符",)
    found: list[str] = []
    # a called name is judged as a call (which names the functions allowed), not as a name
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if id(node) in called and isinstance(node, ast.Name):
            continue
        message = _node_problem(node, functions)
        if message and message not in found:
            found.append(message)
    return tuple(found)


def require(expression: str, functions: Iterable[str]) -> None:
    """Raises ExpressionRefused unless the expression keeps to the rule."""
    found = problems(expression, functions)
    if found:
        raise ExpressionRefused(f"表达式“{expression}”不符合表达式规则：{'；'.join(found)}")


def _node_problem(node: ast.AST, functions: frozenset[str]) -> str | None:
    if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Add | ast.Sub):
        return "运算只允许 + 和 -"
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        return "不允许切片"
    if isinstance(node, _PLAIN):
        return None
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            return f"不允许使用以下划线开头的名称 {node.id}"
        if node.id in _FORBIDDEN_BUILTINS:
            return f"不允许使用 Python 内置名称 {node.id}（数据字段请改用其他名称）"
        return None
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"不允许访问以下划线开头的属性 {node.attr}"
        if node.attr not in METHODS:
            return f"不允许访问属性 .{node.attr}（数据请用下标取值；可调用的方法只有 get、strip）"
        return None
    if isinstance(node, ast.Call):
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            return "函数调用不允许使用关键字参数或 * 展开"
        callee = node.func
        if isinstance(callee, ast.Name):
            if callee.id in functions or callee.id in BUILTIN_FUNCTIONS:
                return None
            allowed = "、".join(sorted(functions | BUILTIN_FUNCTIONS))
            return f"不允许调用 {callee.id}（可调用：{allowed}，以及数据的 get、strip 方法）"
        if isinstance(callee, ast.Attribute) and callee.attr in METHODS:
            return None
        return "只能调用日历函数、len、min、max、abs、int、str，以及数据的 get、strip 方法"
    return f"不允许的写法：{_describe(node)}"


def _describe(node: ast.AST) -> str:
    names = {
        ast.Lambda: "lambda",
        ast.ListComp: "列表推导式",
        ast.SetComp: "集合推导式",
        ast.DictComp: "字典推导式",
        ast.GeneratorExp: "生成器表达式",
        ast.NamedExpr: "赋值表达式 :=",
        ast.JoinedStr: "f-字符串",
        ast.FormattedValue: "f-字符串",
        ast.Dict: "字典",
        ast.Set: "集合",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.Starred: "* 展开",
    }
    return names.get(type(node), type(node).__name__)


def data_names(expression: str) -> set[str]:
    """The names of case data the expression reads (not the functions it calls); for an expression that
    does not parse, none."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, MemoryError, RecursionError, ValueError):
        return set()
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def equality_values(expression: str) -> tuple[str, set[object]] | None:
    """(field, values) when the condition is true exactly for these values of one field:
    ``f == v``, ``v == f``, ``f in (v1, v2)`` or ``or``s of these; None for anything else."""
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except (SyntaxError, MemoryError, RecursionError, ValueError):
        return None
    return _equality(tree)


def _equality(node: ast.expr) -> tuple[str, set[object]] | None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        fields: set[str] = set()
        values: set[object] = set()
        for value in node.values:
            part = _equality(value)
            if part is None:
                return None
            fields.add(part[0])
            values |= part[1]
        return (fields.pop(), values) if len(fields) == 1 else None
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return None
    left, op, right = node.left, node.ops[0], node.comparators[0]
    if isinstance(op, ast.Eq | ast.Is):
        if isinstance(left, ast.Name) and isinstance(right, ast.Constant):
            return left.id, {right.value}
        if isinstance(right, ast.Name) and isinstance(left, ast.Constant):
            return right.id, {left.value}
    if (
        isinstance(op, ast.In)
        and isinstance(left, ast.Name)
        and isinstance(right, ast.Tuple | ast.List)
        and all(isinstance(e, ast.Constant) for e in right.elts)
    ):
        return left.id, {e.value for e in right.elts if isinstance(e, ast.Constant)}
    return None
