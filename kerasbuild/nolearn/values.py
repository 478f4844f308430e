"""Evaluate Python expressions of a nolearn script symbolically, from its syntax tree only.

Nothing is executed or imported: a literal (``0.01``, ``(None, 1, 96, 96)``) becomes data, a
module-level constant (``N = 1000``) is looked up, a number wrapper (``theano.shared(float32(x))``,
``np.cast['float32'](x)``) is unwrapped, a dotted name (``lasagne.nonlinearities.rectify``,
``layers.Conv2DLayer``) becomes a :class:`Symbol`, and a call to a Lasagne layer class becomes
a :class:`LayerRef` in a graph of :class:`LayerCall` nodes. Everything else raises
:class:`Untranslatable` with the line it came from.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from ..layers import lookup
from ..layers.base import NONLINEARITIES

NUMBER_WRAPPERS = {
    "shared",
    "float32",
    "float64",
    "float16",
    "float",
    "int",
    "int32",
    "int64",
    "asarray",
    "array",
}
"""Calls whose single argument is the value (``theano.shared(float32(0.03))`` -> ``0.03``)."""

INIT_ARGUMENTS = {
    "GlorotUniform": ("gain",),
    "GlorotNormal": ("gain",),
    "HeUniform": ("gain",),
    "HeNormal": ("gain",),
    "Orthogonal": ("gain",),
    "Normal": ("std", "mean"),
    "Uniform": ("range", "std", "mean"),
    "Constant": ("val",),
}
"""Lasagne initialiser classes and the order of their positional arguments."""

TRAIN_OBJECTS = (
    "AdjustVariable",
    "EarlyStopping",
    "BatchIterator",
    "FlipBatchIterator",
    "TrainSplit",
)
"""Helper classes of the nolearn tutorial (and nolearn itself) translated by name."""

LAYER_FUNCTIONS = {"dropout": "DropoutLayer"}
"""Lasagne lower-case layer aliases."""


MISSING = object()
"""Stands for a layer argument that could not be translated (already reported)."""


class Untranslatable(Exception):
    """An expression with no kerasbuild equivalent; ``line`` is its 1-based source line.
    ``origin``: the ``(line, message)`` of the root cause when a name's value was the problem."""

    def __init__(self, line: int, message: str, origin: tuple[int, str] | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.origin = origin


@dataclass(frozen=True)
class Symbol:
    """A name the script imports or uses without defining (``lasagne.layers.DenseLayer``)."""

    dotted: str
    line: int

    @property
    def last(self) -> str:
        return self.dotted.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class UserClass:
    """A class defined in the script; ``attributes`` holds its class-level literal values."""

    name: str
    bases: tuple[str, ...]
    attributes: dict[str, Any]
    line: int


@dataclass(frozen=True)
class UserFunction:
    """A function defined in the script. ``unwraps``: its body is only ``return wrapper(arg)``
    for a number wrapper (the tutorial's ``def float32(k): return np.cast['float32'](k)``)."""

    name: str
    line: int
    unwraps: bool = False


@dataclass
class LayerCall:
    """One Lasagne layer instantiation: ``type_name`` as written (last dotted part), the layers
    it takes as input, and its keyword parameters as ``name -> (value, line)``."""

    index: int
    type_name: str
    incoming: list[LayerCall]
    params: dict[str, tuple[Any, int]]
    line: int
    custom: bool = False
    problems: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class LayerRef:
    node: LayerCall


@dataclass(frozen=True)
class Call:
    """A call to a translated helper class (``AdjustVariable(...)``,
    ``lasagne.init.HeNormal(...)``)."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    line: int
    owner: UserClass | None = None


@dataclass
class DictValue:
    """An evaluated mapping with the source line of every key."""

    items: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    """A name whose assigned value could not be evaluated (reported only when used)."""

    error: Untranslatable


class Scope:
    """Names bound so far, in statement order; a function's scope falls back to its module's."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.names: dict[str, Any] = {}
        self.parent = parent

    def get(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def bind(self, name: str, value: Any) -> None:
        self.names[name] = value


_KINDS = {
    "Lambda": "a lambda",
    "ListComp": "a list comprehension",
    "JoinedStr": "an f-string",
    "GeneratorExp": "a generator expression",
    "IfExp": "a conditional expression",
    "Compare": "a comparison",
    "BoolOp": "a boolean expression",
}


def describe(node: ast.AST) -> str:
    """Short source text of ``node`` for messages."""
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."


class Evaluator:
    """Evaluates expressions; ``on_net(call, scope)`` handles each ``NeuralNet(...)`` call."""

    def __init__(self, on_net) -> None:
        self.on_net = on_net
        self.nodes: list[LayerCall] = []

    # ------------------------------------------------------------------ expressions
    def value(self, node: ast.expr, scope: Scope) -> Any:
        """The symbolic value of ``node``; raises :class:`Untranslatable` with its line."""
        handlers = {
            ast.Constant: self._constant,
            ast.List: self._list,
            ast.Tuple: self._list,
            ast.Dict: self._dict,
            ast.UnaryOp: self._unaryop,
            ast.BinOp: self._binop,
            ast.Name: self._name,
            ast.Attribute: self._attribute,
            ast.Subscript: self._subscript,
            ast.Call: self._call,
        }
        handler = handlers.get(type(node))
        if handler is None:
            kind = _KINDS.get(type(node).__name__, type(node).__name__)
            raise Untranslatable(
                node.lineno,
                f"{kind} ({describe(node)}) cannot be translated without running the script",
            )
        return handler(node, scope)

    def _constant(self, node: ast.Constant, scope: Scope) -> Any:
        if isinstance(node.value, (bytes, complex)) or node.value is Ellipsis:
            raise Untranslatable(
                node.lineno, f"the constant {describe(node)} has no spec equivalent"
            )
        return node.value

    def _list(self, node: ast.List | ast.Tuple, scope: Scope) -> list[Any]:
        out = []
        for item in node.elts:
            if isinstance(item, ast.Starred):
                raise Untranslatable(
                    item.lineno, f"unpacking ({describe(item)}) cannot be translated"
                )
            out.append(self.value(item, scope))
        return out

    def _dict(self, node: ast.Dict, scope: Scope) -> DictValue:
        out = DictValue()
        for key, value in zip(node.keys, node.values):
            if key is None:
                merged = self.value(value, scope)
                if not isinstance(merged, DictValue):
                    raise Untranslatable(
                        value.lineno, f"**{describe(value)} is not a literal mapping"
                    )
                out.items.update(merged.items)
                out.lines.update(merged.lines)
                continue
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise Untranslatable(
                    key.lineno, f"mapping key {describe(key)} must be a string literal"
                )
            out.items[key.value] = self.value(value, scope)
            out.lines[key.value] = value.lineno
        return out

    def _unaryop(self, node: ast.UnaryOp, scope: Scope) -> Any:
        operand = self.value(node.operand, scope)
        if _is_number(operand) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(operand, bool) and isinstance(node.op, ast.Not):
            return not operand
        raise Untranslatable(node.lineno, f"{describe(node)} cannot be translated")

    def _binop(self, node: ast.BinOp, scope: Scope) -> Any:
        left, right = self.value(node.left, scope), self.value(node.right, scope)
        if isinstance(left, list) and isinstance(right, list) and isinstance(node.op, ast.Add):
            return left + right
        if _is_number(left) and _is_number(right):
            ops = {
                ast.Add: lambda a, b: a + b,
                ast.Sub: lambda a, b: a - b,
                ast.Mult: lambda a, b: a * b,
                ast.Div: lambda a, b: a / b,
                ast.FloorDiv: lambda a, b: a // b,
                ast.Mod: lambda a, b: a % b,
            }
            if type(node.op) in ops and not (
                isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0
            ):
                return ops[type(node.op)](left, right)
            if isinstance(node.op, ast.Pow) and abs(right) <= 64 and abs(left) <= 1e6:
                try:
                    return left**right
                except (OverflowError, ZeroDivisionError):
                    pass
        raise Untranslatable(node.lineno, f"the expression {describe(node)} cannot be translated")

    def _name(self, node: ast.Name, scope: Scope) -> Any:
        bound = scope.get(node.id)
        if isinstance(bound, Failed):
            line, message = bound.error.origin or (bound.error.line, bound.error.message)
            raise Untranslatable(
                node.lineno, f"'{node.id}' (line {line}): {message}", (line, message)
            )
        if bound is None:
            return Symbol(node.id, node.lineno)
        if isinstance(bound, Symbol):
            return Symbol(bound.dotted, node.lineno)
        return bound

    def _attribute(self, node: ast.Attribute, scope: Scope) -> Any:
        base = self.value(node.value, scope)
        if isinstance(base, Symbol):
            return Symbol(f"{base.dotted}.{node.attr}", node.lineno)
        if isinstance(base, UserClass) and node.attr in base.attributes:
            return base.attributes[node.attr]
        raise Untranslatable(
            node.lineno,
            f"{describe(node)} cannot be translated (only module "
            "attributes such as lasagne.layers.DenseLayer are)",
        )

    def _subscript(self, node: ast.Subscript, scope: Scope) -> Any:
        base = self.value(node.value, scope)
        index = self.value(node.slice, scope)
        if isinstance(base, Symbol) and base.last == "cast" and isinstance(index, str):
            return Symbol(f"{base.dotted}[{index}]", node.lineno)
        if isinstance(base, list) and isinstance(index, int) and -len(base) <= index < len(base):
            return base[index]
        if isinstance(base, DictValue) and isinstance(index, str) and index in base.items:
            return base.items[index]
        raise Untranslatable(node.lineno, f"{describe(node)} cannot be translated")

    def _call(self, node: ast.Call, scope: Scope) -> Any:
        func = self.value(node.func, scope)
        name = func.last if isinstance(func, Symbol) else getattr(func, "name", None)
        if name == "NeuralNet":
            return self.on_net(node, scope)
        if _is_layer_class(func):
            problems: list[tuple[int, str]] = []
            args, kwargs = self._arguments(node, scope, problems)
            type_name = LAYER_FUNCTIONS.get(name, name)
            custom = isinstance(func, UserClass) or lookup(type_name) is None
            return self._layer(type_name, args, kwargs, node, custom, problems)
        args, kwargs = self._arguments(node, scope)
        if isinstance(func, UserFunction) and func.unwraps and len(args) == 1 and not kwargs:
            return _number(args[0], node)
        if isinstance(func, UserFunction):
            raise Untranslatable(
                node.lineno,
                f"{func.name}() is a function defined in the script "
                f"(line {func.line}); kerasbuild does not run code",
            )
        if isinstance(func, UserClass):
            if func.name in TRAIN_OBJECTS:
                return Call(func.name, tuple(args), kwargs, node.lineno, func)
            raise Untranslatable(
                node.lineno,
                f"{func.name} is a class defined in the script "
                f"(line {func.line}) that kerasbuild does not know",
            )
        if not isinstance(func, Symbol):
            raise Untranslatable(node.lineno, f"{describe(node.func)} is not callable here")
        if is_number_wrapper(name):
            if len(args) != 1:
                raise Untranslatable(node.lineno, f"{describe(node)}: expected one value to unwrap")
            return _number(args[0], node)
        if name == "dict":
            out = DictValue()
            for key, value in kwargs.items():
                out.items[key] = value
                out.lines[key] = node.lineno
            return out
        if name in ("list", "tuple") and len(args) == 1 and isinstance(args[0], list):
            return list(args[0])
        if name in INIT_ARGUMENTS or name in TRAIN_OBJECTS or name == "LeakyRectify":
            return Call(name, tuple(args), kwargs, node.lineno)
        if name == "batch_norm":
            return self._batch_norm(args, kwargs, node)
        raise Untranslatable(
            node.lineno,
            f"the call {describe(node)} cannot be translated "
            "(kerasbuild reads the script, it never runs it)",
        )

    def _arguments(
        self, node: ast.Call, scope: Scope, problems: list[tuple[int, str]] | None = None
    ) -> tuple[list[Any], dict[str, Any]]:
        """Evaluate a call's arguments. With ``problems`` (a layer call) a parameter that cannot
        be translated is recorded there and becomes :data:`MISSING`; the first positional
        argument (the input layer) must always translate."""

        def tolerant(expr: ast.expr, what: str, required: bool = False) -> Any:
            try:
                return self.value(expr, scope)
            except Untranslatable as exc:
                if problems is None or required:
                    raise
                problems.append((exc.line, f"{what}: {exc.message}"))
                return MISSING

        args = []
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                raise Untranslatable(arg.lineno, f"*{describe(arg.value)} cannot be translated")
            args.append(tolerant(arg, f"argument {i + 1}", required=i == 0))
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                merged = self.value(keyword.value, scope)
                if not isinstance(merged, DictValue):
                    raise Untranslatable(
                        keyword.value.lineno,
                        f"**{describe(keyword.value)} is not a literal mapping",
                    )
                kwargs.update(merged.items)
            else:
                kwargs[keyword.arg] = tolerant(keyword.value, keyword.arg)
        return args, kwargs

    # ------------------------------------------------------------------ layers
    def _layer(
        self,
        type_name: str,
        args: list[Any],
        kwargs: dict[str, Any],
        node: ast.Call,
        custom: bool,
        problems: list[tuple[int, str]] | None = None,
    ) -> LayerRef:
        """A Lasagne layer instantiation: the first argument is the incoming layer(s)."""
        entry = lookup(type_name)
        positional = entry.positional if entry else ()
        incoming: list[LayerCall] = []
        params: dict[str, tuple[Any, int]] = {}
        rest = list(args)
        source = kwargs.pop("incomings", None) or kwargs.pop("incoming", None)
        if source is None and rest and not (entry is not None and entry.max_inputs == 0):
            source = rest.pop(0)
        if isinstance(source, LayerRef):
            incoming = [source.node]
        elif isinstance(source, list) and source and all(isinstance(s, LayerRef) for s in source):
            incoming = [s.node for s in source]
        elif isinstance(source, (str, list)):
            params["incomings" if isinstance(source, list) else "incoming"] = (source, node.lineno)
        elif source is not None:
            raise Untranslatable(
                node.lineno,
                f"the input of {type_name} must be a layer, got "
                f"{describe(node.args[0]) if node.args else source!r}",
            )
        problems = list(problems or [])
        if len(rest) > len(positional) and entry is not None:
            problems.append(
                (
                    node.lineno,
                    f"takes at most {len(positional)} positional "
                    f"parameters after its input, got {len(rest)}; name them",
                )
            )
        for key, value in zip(positional, rest):
            if value is not MISSING:
                params[key] = (value, node.lineno)
        for key, value in kwargs.items():
            if value is not MISSING:
                params[key] = (value, _keyword_line(node, key))
        call = LayerCall(
            len(self.nodes), type_name, incoming, params, node.lineno, custom, problems
        )
        self.nodes.append(call)
        return LayerRef(call)

    def _batch_norm(self, args: list[Any], kwargs: dict[str, Any], node: ast.Call) -> LayerRef:
        """``lasagne.layers.batch_norm(layer)``: the layer loses its bias and nonlinearity, which
        move to a BatchNormLayer and a NonlinearityLayer after it (as Lasagne does)."""
        if len(args) != 1 or not isinstance(args[0], LayerRef):
            raise Untranslatable(node.lineno, "batch_norm() expects one layer")
        wrapped = args[0].node
        entry = lookup(wrapped.type_name)
        fields = entry.schema.model_fields if entry else {}
        nonlinearity = wrapped.params.get("nonlinearity")
        if nonlinearity is None and "nonlinearity" in fields:
            nonlinearity = (fields["nonlinearity"].default, node.lineno)
        if "nonlinearity" in fields:
            wrapped.params["nonlinearity"] = (None, node.lineno)
        if "b" in fields:
            wrapped.params["b"] = (None, node.lineno)
        base = wrapped.params.get("name", (None, 0))[0]
        name = kwargs.pop("name", None) or (f"{base}_bn" if isinstance(base, str) else None)
        if name is not None:
            kwargs["name"] = name
        layer = self._layer("BatchNormLayer", [args[0]], kwargs, node, custom=False)
        if nonlinearity is None or nonlinearity[0] is None:
            return layer
        extra = {"nonlinearity": nonlinearity[0]}
        if name is not None:
            extra["name"] = f"{name}_nonlin"
        return self._layer("NonlinearityLayer", [layer], extra, node, custom=False)


def _is_layer_class(func: Any) -> bool:
    if isinstance(func, UserClass):
        return any(base.endswith("Layer") for base in func.bases)
    if not isinstance(func, Symbol):
        return False
    name = LAYER_FUNCTIONS.get(func.last, func.last)
    return lookup(name) is not None or name.endswith("Layer")


def is_number_wrapper(name: str) -> bool:
    """``float32``, ``theano.shared``, ``np.cast['float32']``... (by the name's last part)."""
    return name in NUMBER_WRAPPERS or name.startswith("cast[")


def _keyword_line(node: ast.Call, key: str) -> int:
    for keyword in node.keywords:
        if keyword.arg == key:
            return keyword.value.lineno
    return node.lineno


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, node: ast.Call) -> Any:
    if _is_number(value) or isinstance(value, bool):
        return value
    if isinstance(value, list) and all(_is_number(v) for v in value):
        return value
    raise Untranslatable(
        node.lineno, f"{describe(node)}: expected a number inside, got {describe(node.args[0])}"
    )


def nonlinearity_name(value: Any) -> str | None:
    """``lasagne.nonlinearities.rectify`` -> ``'rectify'``; ``LeakyRectify(0.1)`` -> a name or
    None."""
    if isinstance(value, Symbol) and value.last in NONLINEARITIES:
        return value.last
    if isinstance(value, Call) and value.name == "LeakyRectify":
        leakiness = value.args[0] if value.args else value.kwargs.get("leakiness", 0.01)
        for name, slope in (("leaky_rectify", 0.01), ("very_leaky_rectify", 1 / 3)):
            if _is_number(leakiness) and abs(leakiness - slope) < 1e-6:
                return name
        raise Untranslatable(
            value.line,
            f"LeakyRectify({leakiness!r}): only leakiness 0.01 "
            "(leaky_rectify) and 1/3 (very_leaky_rectify) are available",
        )
    raise ValueError(value)


def init_data(value: Call) -> Any:
    """``HeNormal(gain='relu')`` -> ``{type: HeNormal, gain: relu}``; ``Constant(0.1)`` ->
    ``0.1``."""
    names = INIT_ARGUMENTS[value.name]
    given = dict(zip(names, value.args))
    given.update(value.kwargs)
    if given.pop("c01b", False):
        raise Untranslatable(
            value.line,
            f"{value.name}(c01b=True) is a cuda-convnet weight layout with no Keras counterpart",
        )
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise Untranslatable(value.line, f"{value.name}() has no parameter {unknown[0]!r}")
    for key, item in given.items():
        if not (
            _is_number(item)
            or (key == "gain" and item == "relu")
            or (key == "range" and isinstance(item, list))
        ):
            raise Untranslatable(
                value.line, f"{value.name}({key}={item!r}) is not a literal number"
            )
    if value.name == "Constant":
        return float(given.get("val", 0.0))
    if value.name == "Normal":
        given.setdefault("std", 0.01)
    if value.name == "Uniform" and "std" not in given:
        given.setdefault("range", 0.01)
    if not given:
        return value.name
    return {"type": value.name, **given}


def to_data(value: Any, line: int) -> Any:
    """Turn an evaluated value into plain spec data (lists, mappings, numbers, strings, null)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [to_data(v, line) for v in value]
    if isinstance(value, DictValue):
        return {k: to_data(v, value.lines.get(k, line)) for k, v in value.items.items()}
    if isinstance(value, Call) and value.name in INIT_ARGUMENTS:
        return init_data(value)
    if isinstance(value, (Symbol, Call)):
        try:
            return nonlinearity_name(value)
        except ValueError:
            pass
    if isinstance(value, Symbol):
        raise Untranslatable(
            value.line, f"'{value.dotted}' is a Python object kerasbuild cannot translate"
        )
    if isinstance(value, Call):
        raise Untranslatable(value.line, f"{value.name}(...) cannot be used here")
    if isinstance(value, LayerRef):
        raise Untranslatable(value.node.line, "a layer object cannot be used as a parameter value")
    raise Untranslatable(line, f"{type(value).__name__} value cannot be translated")
