"""Convert a nolearn script's ``NeuralNet(...)`` calls into kerasbuild spec documents.

The script is parsed with :mod:`ast` and read statement by statement, in order, through every
function, ``if``, ``for``, ``with`` and ``try`` body; it is never executed and nothing it imports is
imported. Names bound so far (imports, ``Conv2DLayer = layers.cuda_convnet.Conv2DCCLayer`` aliases,
literal constants such as ``N = 1000``, Lasagne layers built with ``l = DenseLayer(l, ...)``,
classes and functions defined in the script) resolve the arguments of each ``NeuralNet`` call. What
cannot be translated is reported with its source line and left out; the rest of the spec is still
written. Unknown (custom) layer classes are kept under their own name and reported, so the spec
keeps its shape and validation names the layer.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..schema.base import NAME_PATTERN
from ..spec.auto import AUTO
from . import py2
from .layers import LayerTranslator
from .report import Report
from .training import is_train_key, train_section
from .values import (
    DictValue,
    Evaluator,
    Failed,
    Scope,
    Symbol,
    Untranslatable,
    UserClass,
    UserFunction,
    is_number_wrapper,
)


@dataclass
class ConvertedNet:
    """One ``NeuralNet(...)`` call: the spec document and what went wrong translating it.

    ``param_count`` is the total parameter count from validation (``None`` when the spec does
    not validate; the validation problems are in ``problems`` then).
    """

    name: str
    line: int
    document: dict[str, Any]
    problems: list[tuple[int, str]] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    param_count: int | None = None


@dataclass
class ConversionResult:
    """Every net found in the script plus the script-level problems (a syntax error)."""

    nets: list[ConvertedNet]
    script_problems: list[tuple[int, str]] = field(default_factory=list)
    script_notes: list[tuple[int, str]] = field(default_factory=list)

    @property
    def specs(self) -> list[dict[str, Any]]:
        return [net.document for net in self.nets]

    @property
    def problems(self) -> list[tuple[int, str]]:
        found = [*self.script_problems, *(p for net in self.nets for p in net.problems)]
        return sorted(set(found))

    @property
    def notes(self) -> list[tuple[int, str]]:
        return sorted({*self.script_notes, *(n for net in self.nets for n in net.notes)})


def from_nolearn(source_text: str, filename: str = "<script>") -> ConversionResult:
    """Find every ``NeuralNet(...)`` call in ``source_text`` and translate it (never runs it)."""
    try:
        tree, notes = py2.parse(source_text, filename)
    except SyntaxError as exc:
        return ConversionResult([], [(exc.lineno or 1, f"syntax error: {exc.msg}")])
    except (ValueError, RecursionError, MemoryError) as exc:
        return ConversionResult([], [(1, f"cannot parse the script: {exc}")])
    walker = _Walker(filename)
    try:
        walker.block(tree.body, walker.module)
        for node in ast.walk(tree):
            if _is_neuralnet_call(node) and id(node) not in walker.seen:
                walker.convert_net(node, walker.module)
    except RecursionError:
        return ConversionResult(
            walker.nets, [(1, "the script nests expressions too deeply to read")], notes
        )
    return ConversionResult(sorted(walker.nets, key=lambda n: n.line), [], [*notes, *walker.notes])


def _is_neuralnet_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "NeuralNet") or (
        isinstance(func, ast.Attribute) and func.attr == "NeuralNet"
    )


class _Walker:
    """Reads statements in order, binding names, and converts each ``NeuralNet`` call."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.module = Scope()
        self.evaluator = Evaluator(self.convert_net)
        self.nets: list[ConvertedNet] = []
        self.seen: set[int] = set()
        self.name_hint: str | None = None
        self.notes: list[tuple[int, str]] = []
        """Script-level notes (a function parameter taken at its default)."""

    # ------------------------------------------------------------------ statements
    def block(self, statements: list[ast.stmt], scope: Scope, function: str | None = None) -> None:
        for statement in statements:
            self.statement(statement, scope, function)

    def statement(self, node: ast.stmt, scope: Scope, function: str | None) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                scope.bind(local, Symbol(alias.name if alias.asname else local, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    scope.bind(
                        alias.asname or alias.name,
                        Symbol(f"{node.module or ''}.{alias.name}".lstrip("."), node.lineno),
                    )
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None:
                hint = (
                    targets[0].id
                    if len(targets) == 1 and isinstance(targets[0], ast.Name)
                    else None
                )
                value = self.evaluate(node.value, scope, hint)
                for target in targets:
                    self.assign(target, node.value, value, scope)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            scope.bind(
                node.target.id,
                Failed(Untranslatable(node.lineno, f"it is changed by '{ast.unparse(node)}'")),
            )
        elif isinstance(node, (ast.Expr, ast.Return)) and node.value is not None:
            self.evaluate(node.value, scope, function if isinstance(node, ast.Return) else None)
        elif isinstance(node, ast.ClassDef):
            scope.bind(node.name, self.user_class(node, scope))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope.bind(node.name, UserFunction(node.name, node.lineno, _unwraps(node, scope)))
            inner = Scope(scope)
            for arg, default in _parameters(node.args):
                value = self.evaluate(default, scope, None) if default is not None else None
                if default is not None and not isinstance(value, Failed):
                    self.notes.append(
                        (
                            node.lineno,
                            f"{node.name}(): parameter {arg} is taken at its "
                            f"default, {ast.unparse(default)[:40]}",
                        )
                    )
                    inner.bind(arg, value)
                else:
                    inner.bind(
                        arg,
                        Failed(
                            Untranslatable(
                                node.lineno,
                                f"it is a parameter of {node.name}(), known only when the script "
                                "runs",
                            )
                        ),
                    )
            self.block(node.body, inner, node.name)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _target_names(node.target):
                scope.bind(name, Failed(Untranslatable(node.lineno, "it is a loop variable")))
            self.block(node.body + node.orelse, scope, function)
        elif isinstance(node, (ast.If, ast.While)):
            self.block(node.body + node.orelse, scope, function)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.block(node.body, scope, function)
        elif isinstance(node, ast.Try):
            self.block(node.body, scope, function)
            for handler in node.handlers:
                self.block(handler.body, scope, function)
            self.block(node.orelse + node.finalbody, scope, function)

    def evaluate(self, node: ast.expr, scope: Scope, hint: str | None) -> Any:
        self.name_hint = hint
        try:
            return self.evaluator.value(node, scope)
        except Untranslatable as exc:
            return Failed(exc)
        finally:
            self.name_hint = None

    def assign(self, target: ast.expr, value_node: ast.expr, value: Any, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value if isinstance(value, list) and len(value) == len(target.elts) else None
            for i, element in enumerate(target.elts):
                if items is not None:
                    self.assign(element, value_node, items[i], scope)
                else:
                    for name in _target_names(element):
                        scope.bind(
                            name,
                            Failed(
                                Untranslatable(
                                    value_node.lineno,
                                    f"it is unpacked from {ast.unparse(value_node)[:60]}",
                                )
                            ),
                        )

    def user_class(self, node: ast.ClassDef, scope: Scope) -> UserClass:
        """A class defined in the script, with its class-level literal attributes."""
        attributes: dict[str, Any] = {}
        for statement in node.body:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                value = self.evaluate(statement.value, scope, None)
                if not isinstance(value, Failed):
                    attributes[statement.targets[0].id] = value
        bases = tuple(ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases)
        return UserClass(node.name, bases, attributes, node.lineno)

    # ------------------------------------------------------------------ NeuralNet
    def convert_net(self, call: ast.Call, scope: Scope) -> Symbol:
        """Translate one ``NeuralNet(...)`` call into a spec document."""
        if id(call) in self.seen:
            return Symbol("NeuralNet", call.lineno)
        self.seen.add(id(call))
        report = Report()
        name = self._net_name(call)
        kwargs: dict[str, tuple[Any, int]] = {}
        layers_node = call.args[0] if call.args else None
        if len(call.args) > 1:
            report.problem(
                call.lineno,
                "NeuralNet takes its settings as keyword arguments; "
                "positional arguments after layers are ignored",
            )
        for keyword in call.keywords:
            if keyword.arg == "layers":
                layers_node = keyword.value
                continue
            self._keyword(keyword, scope, report, kwargs)
        layers_value: Any = None
        if layers_node is None:
            report.problem(call.lineno, "NeuralNet(...) has no layers=")
        else:
            try:
                layers_value = self.evaluator.value(layers_node, scope)
            except Untranslatable as exc:
                report.problem(exc.line, f"layers: {exc.message}")
        _sizes_from_data(kwargs, layers_value, report)
        translator = LayerTranslator(report)
        train_kwargs = {k: v for k, v in kwargs.items() if is_train_key(k)}
        flat = {k: v for k, v in kwargs.items() if not is_train_key(k)}
        if layers_value is not None:
            flat = translator.from_value(layers_value, flat, layers_node.lineno)
        for key, (_, line) in flat.items():
            report.problem(
                line,
                f"'{key}' is neither a NeuralNet setting nor '<layer>_<param>' for "
                "a layer in layers=",
            )
        lines = dict(translator.lines)
        document: dict[str, Any] = {
            "name": name,
            "reference": f"nolearn NeuralNet at {self.filename}:{call.lineno}, converted by "
            "kerasbuild from-nolearn",
            "layers": translator.layers,
            "train": train_section(train_kwargs, report, lines),
        }
        net = ConvertedNet(name, call.lineno, document, notes=sorted(report.notes))
        net.param_count = _validate(document, lines, call.lineno, report)
        net.problems = sorted(report.problems)
        self.nets.append(net)
        return Symbol("NeuralNet", call.lineno)

    def _keyword(
        self, keyword: ast.keyword, scope: Scope, report: Report, kwargs: dict[str, tuple[Any, int]]
    ) -> None:
        """One ``NeuralNet`` keyword argument (``more_params`` and ``**mapping`` are merged)."""
        if keyword.arg == "on_epoch_finished" and isinstance(keyword.value, (ast.List, ast.Tuple)):
            hooks = []
            for element in keyword.value.elts:
                try:
                    hooks.append(self.evaluator.value(element, scope))
                except Untranslatable as exc:
                    report.problem(
                        exc.line, f"on_epoch_finished: {exc.message} (the other hooks are kept)"
                    )
            kwargs[keyword.arg] = (hooks, keyword.value.lineno)
            return
        try:
            value = self.evaluator.value(keyword.value, scope)
        except Untranslatable as exc:
            if keyword.arg == "input_shape" or str(keyword.arg).endswith("_num_units"):
                kwargs[str(keyword.arg)] = (Failed(exc), keyword.value.lineno)  # auto, if a size
            else:
                report.problem(exc.line, f"{keyword.arg or '**'}: {exc.message}")
            return
        if keyword.arg is None or keyword.arg == "more_params":
            if not isinstance(value, DictValue):
                report.problem(
                    keyword.value.lineno,
                    f"{ast.unparse(keyword.value)[:60]} is not a literal mapping",
                )
                return
            for key, item in value.items.items():
                kwargs[key] = (item, value.lines.get(key, keyword.value.lineno))
            return
        kwargs[keyword.arg] = (value, keyword.value.lineno)

    def _net_name(self, call: ast.Call) -> str:
        base = (
            self.name_hint if self.name_hint and re.match(NAME_PATTERN, self.name_hint) else "net"
        )
        taken = {net.name for net in self.nets}
        if base == "net" and not self.name_hint:
            base = f"net_line{call.lineno}"
        name, k = base, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        return name


def _validate(
    document: dict[str, Any], lines: dict[tuple[Any, ...], int], line: int, report: Report
) -> int | None:
    """Validate with :func:`kerasbuild.load_spec`; problems are reported at the script line of
    the layer or setting they concern. Returns the total parameter count when valid."""
    from ..spec.loader import load_spec

    try:
        loaded = load_spec(document)
    except SpecError as exc:
        for problem in exc.problems:
            path = _indexed(tuple(problem.path), document)
            where = next(
                (lines[path[:k]] for k in range(len(path), 0, -1) if path[:k] in lines), line
            )
            report.problem(
                where,
                f"the converted spec does not validate: "
                f"{'.'.join(map(str, problem.path)) or '<root>'}: {problem.message}",
            )
        return None
    if loaded.graph.unknown:
        report.note(
            line,
            f"{len(loaded.graph.unknown)} layer(s) depend on auto sizes; the parameter count "
            "shown leaves them out (known when training starts)",
        )
    return loaded.graph.total_params


def _indexed(path: tuple[Any, ...], document: dict[str, Any]) -> tuple[Any, ...]:
    """``("layers", "hidden", "num_units")`` -> ``("layers", 1, "num_units")``."""
    if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], str):
        names = [layer.get("name") for layer in document["layers"]]
        if path[1] in names:
            return ("layers", names.index(path[1]), *path[2:])
    return path


def _parameters(arguments: ast.arguments) -> list[tuple[str, ast.expr | None]]:
    """Every parameter of a function with its default expression (``None``: no default)."""
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    pairs = list(zip(positional, [*defaults, *arguments.defaults]))
    pairs += list(zip(arguments.kwonlyargs, arguments.kw_defaults))
    pairs += [(arg, None) for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
    return [(arg.arg, default) for arg, default in pairs]


def _sizes_from_data(kwargs: dict[str, tuple[Any, int]], layers: Any, report: Report) -> None:
    """Sizes the script knows only when it runs, which the data supplies: ``input_shape`` and
    the last layer's ``num_units`` become ``auto`` (with a note); any other unknown size is a
    problem and is left out."""
    last = (
        layers[-1][0]
        if isinstance(layers, list)
        and layers
        and isinstance(layers[-1], list)
        and layers[-1]
        and isinstance(layers[-1][0], str)
        else None
    )
    for key, (value, line) in list(kwargs.items()):
        if not isinstance(value, Failed):
            continue
        exc = value.error
        if key in ("input_shape", f"{last}_num_units"):
            report.note(
                exc.line,
                f"{key}: {exc.message}; written as auto (taken from the data when training starts)",
            )
            kwargs[key] = (AUTO, line)
        else:
            report.problem(exc.line, f"{key}: {exc.message}")
            del kwargs[key]


def _target_names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _unwraps(node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> bool:
    """True for a one-line float helper, recognised by its shape (nothing is run):
    ``return np.cast['float32'](k)``, ``np.float32(k)``, ``theano.tensor.cast(k, 'float32')``,
    ``T.cast(k, 'float32')``, ``numpy.asarray(k, dtype='float32')`` and the like."""
    body = [
        s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    params = node.args.args
    if len(body) != 1 or not isinstance(body[0], ast.Return) or len(params) != 1:
        return False
    value = body[0].value
    if not (
        isinstance(value, ast.Call)
        and value.args
        and isinstance(value.args[0], ast.Name)
        and value.args[0].id == params[0].arg
    ):
        return False
    func = value.func
    last = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else None
    )
    if isinstance(func, ast.Subscript) and isinstance(func.slice, ast.Constant):
        last = f"cast[{func.slice.value}]"
    dtypes = [*value.args[1:], *(k.value for k in value.keywords if k.arg == "dtype")]
    if len(dtypes) != len(value.args) - 1 + len(value.keywords):  # a keyword other than dtype
        return False
    if last == "cast" and len(dtypes) == 1:
        return _is_float_dtype(dtypes[0])
    if dtypes:
        return last in ("asarray", "array") and len(dtypes) == 1 and _is_float_dtype(dtypes[0])
    return isinstance(last, str) and is_number_wrapper(last)


def _is_float_dtype(node: ast.expr) -> bool:
    """``'float32'``, ``np.float32``, ``theano.config.floatX``."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.startswith("float")
    text = ast.unparse(node)
    return text.rsplit(".", 1)[-1].startswith("float")
