"""C and C++ sources, parsed with tree-sitter as written (no preprocessor run).

tree-sitter builds a syntax tree from unpreprocessed code and recovers from what
it cannot parse (unknown macros, ``#if`` inside initializers) with local ERROR
nodes, so one odd line never hides the rest of a file.  Before parsing, a few
CPython statement macros that carry no semicolon (``Py_BEGIN_ALLOW_THREADS``,
``PyObject_HEAD``, ...) are replaced by code of the same length that means the
same thing to a parser (``{``, ``PyObject _ob;``), so every byte keeps its
position.  Macro bodies (``#define``) are parsed separately and searched for
the calls the rules look for.

What is reported (codes of the rule catalogue):

* IA101 ``PyInit_<name>`` (or a helper it calls) builds its module with
  ``PyModule_Create*`` / ``Py_InitModule*`` and not with ``PyModuleDef_Init``.
* IA102-IA105 every ``PyModuleDef_Slot`` array (arrays of the same name, e.g. in
  ``#if`` branches, count as one): no ``Py_mod_multiple_interpreters`` entry,
  ``..._NOT_SUPPORTED``, ``..._SUPPORTED``, no ``Py_mod_gil`` entry.  A
  multi-phase ``PyInit`` in a file without slot arrays gets IA102 and IA105.
  pybind11's ``PYBIND11_MODULE(name, m, options...)`` is judged by its options.
* IA201 file-scope and function-``static`` variables holding Python objects
  (``PyObject *``, ``Py*Object``, structs starting with ``PyObject_HEAD``,
  pybind11/nanobind object types, containers of them), and other file-scope or
  function-``static`` variables that the file writes to (assignment, ``++``,
  ``&x``).  C++ ``static`` data members of Python object type too.
* IA202 ``PyTypeObject`` variables (static types).
* IA203 ``PyState_FindModule`` / ``PyState_AddModule`` / ``PyState_RemoveModule``.
* IA204 ``PyGILState_Ensure`` / ``PyGILState_Release`` /
  ``PyGILState_GetThisThreadState`` / ``PyGILState_Check``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

import tree_sitter
import tree_sitter_c
import tree_sitter_cpp

from interp_audit.check.interface import Comment, FileResult, Hit, Location, SourceChecker

# --- names the rules look for -------------------------------------------------

SINGLE_PHASE_CREATORS = frozenset(
    {"PyModule_Create", "PyModule_Create2", "PyModule_Create2TraceRefs",
     "Py_InitModule", "Py_InitModule3", "Py_InitModule4", "Py_InitModule4_64"}
)
MULTI_PHASE_INIT = "PyModuleDef_Init"
STATE_LOOKUPS = frozenset({"PyState_FindModule", "PyState_AddModule", "PyState_RemoveModule"})
GILSTATE_CALLS = frozenset(
    {"PyGILState_Ensure", "PyGILState_Release", "PyGILState_GetThisThreadState", "PyGILState_Check"}
)
INTERESTING_CALLS = SINGLE_PHASE_CREATORS | STATE_LOOKUPS | GILSTATE_CALLS | {MULTI_PHASE_INIT}

#: Constant tables of the C API: mutable in C, but by convention written only by CPython.
TABLE_TYPES = frozenset(
    {"PyMethodDef", "PyModuleDef", "PyModuleDef_Base", "PyModuleDef_Slot", "PyMemberDef", "PyGetSetDef",
     "PyType_Slot", "PyType_Spec", "PyNumberMethods", "PySequenceMethods", "PyMappingMethods",
     "PyBufferProcs", "PyAsyncMethods", "PyStructSequence_Desc", "PyStructSequence_Field", "_PyArg_Parser"}
)
_PY_OBJECT_TYPE = re.compile(r"^Py[A-Za-z]*Object$")
_BINDING_NAMESPACES = frozenset({"py", "pybind11", "nb", "nanobind"})
_BINDING_OBJECT_TYPES = frozenset(
    {"object", "handle", "module_", "module", "type", "str", "bytes", "bytearray", "dict", "list", "tuple",
     "set", "frozenset", "function", "cpp_function", "capsule", "int_", "float_", "bool_", "none", "iterable",
     "iterator", "sequence", "callable", "array", "array_t", "ndarray", "class_", "enum_", "exception",
     "object_api", "weakref", "buffer", "memoryview", "slice", "args", "kwargs", "typed_object"}
)

#: Statement-like CPython macros without a semicolon, and same-length stand-ins.
_STAND_INS = {
    b"Py_BEGIN_ALLOW_THREADS": b"{",
    b"Py_END_ALLOW_THREADS": b"}",
    b"Py_BLOCK_THREADS": b";",
    b"Py_UNBLOCK_THREADS": b";",
    b"PyObject_HEAD": b"PyObject _ob;",
    b"PyObject_VAR_HEAD": b"PyVarObject _ob;",
}
_STAND_IN_PATTERN = re.compile(rb"\b(" + b"|".join(re.escape(k) for k in _STAND_INS) + rb")\b")

_SLOT_MULTIPLE_INTERPRETERS = ("Py_mod_multiple_interpreters", "3")
_SLOT_GIL = ("Py_mod_gil", "4")

# --- tree-sitter set-up ---------------------------------------------------------

_QUERY_TEXT = """
((identifier) @call (#match? @call "^(PyModule_Create|Py_InitModule|PyModuleDef_Init$|PyState_|PyGILState_)"))
(declaration) @decl
(function_definition) @function
(comment) @comment
(preproc_arg) @macro
(assignment_expression left: (_) @write)
(update_expression argument: (_) @write)
(pointer_expression operator: "&" argument: (_) @address)
(struct_specifier body: (field_declaration_list)) @struct
"""
_CPP_QUERY_TEXT = _QUERY_TEXT + """
(field_declaration (storage_class_specifier) @static_member)
"""
_LOCALS_TEXT = """
(parameter_declaration declarator: (_) @local)
(declaration declarator: (_) @local)
"""
_CALLEES_TEXT = """
(call_expression function: (identifier) @callee)
(expression_statement (identifier) @callee)
"""


class _Grammar:
    """A tree-sitter language with its parser and compiled queries."""

    def __init__(self, language_capsule, cpp: bool) -> None:
        self.language = tree_sitter.Language(language_capsule)
        self.parser = tree_sitter.Parser(self.language)
        self.query = tree_sitter.Query(self.language, _CPP_QUERY_TEXT if cpp else _QUERY_TEXT)
        self.callees = tree_sitter.Query(self.language, _CALLEES_TEXT)
        self.locals = tree_sitter.Query(self.language, _LOCALS_TEXT)
        self.errors = tree_sitter.Query(self.language, "(ERROR) @error")
        self.cpp = cpp

    def captures(self, query: tree_sitter.Query, node: tree_sitter.Node) -> dict[str, list[tree_sitter.Node]]:
        return tree_sitter.QueryCursor(query).captures(node)

    def error_count(self, tree: tree_sitter.Tree) -> int:
        if not tree.root_node.has_error:
            return 0
        return len(self.captures(self.errors, tree.root_node).get("error", ()))


_GRAMMARS: dict[str, _Grammar] = {}


def _grammar(name: str) -> _Grammar:
    if name not in _GRAMMARS:
        if name == "c":
            _GRAMMARS[name] = _Grammar(tree_sitter_c.language(), cpp=False)
        else:
            _GRAMMARS[name] = _Grammar(tree_sitter_cpp.language(), cpp=True)
    return _GRAMMARS[name]


def _stand_in(match: re.Match) -> bytes:
    original = match.group(1)
    return _STAND_INS[original].ljust(len(original))


def prepare(source: bytes) -> bytes:
    """``source`` with semicolon-less CPython macros replaced by same-length code."""
    return _STAND_IN_PATTERN.sub(_stand_in, source)


# --- small tree helpers -----------------------------------------------------------


def _text(node: Optional[tree_sitter.Node]) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _type_label(node: Optional[tree_sitter.Node]) -> str:
    """A declaration's type as one short line."""
    text = " ".join(_text(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _function_name(function: tree_sitter.Node) -> Optional[str]:
    """The name of the function a ``function_definition`` defines."""
    name, is_function, _ = _declared(function.child_by_field_name("declarator"))
    return _text(name) if name is not None and is_function else None


#: Pointer depth reported for function pointers (they hold code, not objects).
FUNCTION_POINTER = -1


def _declared(declarator: Optional[tree_sitter.Node]) -> tuple[Optional[tree_sitter.Node], bool, int]:
    """(name node, declares a function, pointer depth or FUNCTION_POINTER) for a declarator."""
    pointers = 0
    function_pointer = False
    node = declarator
    while node is not None:
        kind = node.type
        if kind in ("identifier", "field_identifier", "type_identifier", "qualified_identifier", "operator_name",
                    "destructor_name"):
            return node, False, FUNCTION_POINTER if function_pointer else pointers
        if kind == "function_declarator":
            inner = node.child_by_field_name("declarator")
            if inner is not None and inner.type == "parenthesized_declarator":
                function_pointer = True  # the variable's name is inside the parentheses
                node = inner
                continue
            return inner, True, pointers
        if kind == "pointer_declarator":
            pointers += 1
            node = node.child_by_field_name("declarator")
        elif kind in ("init_declarator", "array_declarator"):
            node = node.child_by_field_name("declarator")
        elif kind in ("parenthesized_declarator", "attributed_declarator", "reference_declarator"):
            node = node.named_children[-1] if kind == "reference_declarator" and node.named_children else (
                node.named_children[0] if node.named_children else None
            )
        else:
            return None, False, pointers
    return None, False, pointers


def _type_words(type_node: Optional[tree_sitter.Node]) -> list[tuple[str, Optional[str]]]:
    """(name, namespace) of every type name inside a declaration's type."""
    words: list[tuple[str, Optional[str]]] = []
    if type_node is None:
        return words
    stack = [type_node]
    while stack:
        node = stack.pop()
        if node.type in ("type_identifier", "primitive_type", "identifier"):
            scope = None
            parent = node.parent
            if parent is not None and parent.type == "qualified_identifier":
                scope = _text(parent.child_by_field_name("scope")).split("::")[-1] or None
            words.append((_text(node), scope))
        elif node.type == "struct_specifier":
            name = node.child_by_field_name("name")
            if name is not None:
                words.append((_text(name), None))
        else:
            stack.extend(node.named_children)
    return words


def _declaration_words(declaration: tree_sitter.Node) -> list[tuple[str, Optional[str]]]:
    """Type names of a declaration outside its declarators, including those the parser could not place."""
    declarators = {child.id for child in declaration.children_by_field_name("declarator")}
    words: list[tuple[str, Optional[str]]] = []
    for child in declaration.named_children:
        if child.id not in declarators:
            words.extend(_type_words(child))
    return words


def _misparsed_items(root: tree_sitter.Node) -> set[int]:
    """Ids of top-level items that sit inside a function body the parser did not recognise.

    An unknown macro before a function (``static MACRO(1) PyObject *f(...) {``)
    can turn the header into a broken declaration whose ERROR holds the ``{``;
    the body's statements then appear at file scope until an ERROR holding the
    ``}``.  Such items, and the broken declaration itself, are not file-scope
    variables.
    """
    misparsed: set[int] = set()
    open_braces = 0
    stack = list(reversed(root.named_children))
    while stack:
        item = stack.pop()
        if item.type in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "linkage_specification",
                         "declaration_list"):
            stack.extend(reversed(item.named_children))
            continue
        if open_braces > 0:
            misparsed.add(item.id)
        if item.has_error:
            opened, closed = _error_braces(item)
            if opened:
                misparsed.add(item.id)
            open_braces = max(0, open_braces + opened - closed)
    return misparsed


def _error_braces(node: tree_sitter.Node) -> tuple[int, int]:
    """Braces that are direct children of ERROR nodes under ``node``: (opened, closed)."""
    opened = closed = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "ERROR":
            for child in current.children:
                if child.type == "{":
                    opened += 1
                elif child.type == "}":
                    closed += 1
        if current.has_error:
            stack.extend(current.named_children)
    return opened, closed


def _storage(declaration: tree_sitter.Node) -> set[str]:
    return {_text(child) for child in declaration.children if child.type == "storage_class_specifier"}


def _enclosing(node: tree_sitter.Node) -> tuple[str, Optional[tree_sitter.Node]]:
    """Where a declaration lives: ("file", None), ("function", fn) or ("other", None)."""
    parent = node.parent
    while parent is not None:
        kind = parent.type
        if kind == "function_definition":
            return "function", parent
        if kind in ("field_declaration_list", "parameter_list", "lambda_expression", "template_declaration",
                    "for_statement", "condition_clause"):
            return "other", None
        if kind == "translation_unit":
            return "file", None
        parent = parent.parent
    return "file", None


def _inside_error(node: tree_sitter.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "ERROR":
            return True
        parent = parent.parent
    return False


def _written_base(node: tree_sitter.Node) -> Optional[tree_sitter.Node]:
    """The variable an lvalue writes to (``x``, ``x.f``, ``x[i]``), not through pointers."""
    while node is not None:
        kind = node.type
        if kind == "identifier":
            return node
        if kind == "parenthesized_expression":
            node = node.named_children[0] if node.named_children else None
        elif kind == "field_expression":
            operator = node.child_by_field_name("operator")
            if operator is not None and _text(operator) == "->":
                return None
            node = node.child_by_field_name("argument")
        elif kind == "subscript_expression":
            node = node.child_by_field_name("argument")
        else:
            return None
    return None


def _slot_value_kind(text: str) -> Optional[str]:
    """What a Py_mod_multiple_interpreters value means, from its spelling."""
    if "PER_INTERPRETER_GIL" in text:
        return "per-interpreter-gil"
    if "NOT_SUPPORTED" in text:
        return "not-supported"
    if "MULTIPLE_INTERPRETERS_SUPPORTED" in text:
        return "supported"
    bare = re.sub(r"\(\s*void\s*\*\s*\)|[()\s]", "", text)
    return {"0": "not-supported", "1": "supported", "2": "per-interpreter-gil"}.get(bare)


# --- per-file analysis --------------------------------------------------------------


@dataclass
class _Candidate:
    """A global without a Python object type: reported only when the file writes to it."""

    name: str
    name_node: tree_sitter.Node
    statement: tree_sitter.Node
    where: str  # "file scope" or "function f"


@dataclass
class _Analysis:
    grammar: _Grammar
    path: str
    source: bytes
    tree: tree_sitter.Tree
    lines: list[bytes]
    hits: list[Hit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    object_structs: set[str] = field(default_factory=set)
    module_name: Optional[str] = None

    # locations --------------------------------------------------------------
    def _column(self, row: int, byte_column: int) -> int:
        line = self.lines[row] if row < len(self.lines) else b""
        return len(line[:byte_column].decode("utf-8", "replace")) + 1

    def location(self, node: tree_sitter.Node, row_offset: int = 0) -> Location:
        (row, col), (end_row, end_col) = node.start_point, node.end_point
        row, end_row = row + row_offset, end_row + row_offset
        if row_offset:
            col, end_col = 0, max(end_col, 1)  # inside a macro body: point at the line
        return Location(self.path, row + 1, self._column(row, col), end_row + 1, self._column(end_row, end_col))

    def add(self, code: str, node: tree_sitter.Node, detail: str, symbol: Optional[str] = None,
            statement: Optional[tree_sitter.Node] = None, row_offset: int = 0, module: Optional[str] = None) -> None:
        location = self.location(node, row_offset)
        statement_line = statement.start_point[0] + 1 if statement is not None else location.line
        self.hits.append(Hit(code, location, detail, symbol, statement_line, module or self.module_name))

    # the whole file -------------------------------------------------------------
    def run(self) -> list[Comment]:
        captures = self.grammar.captures(self.grammar.query, self.tree.root_node)
        functions = captures.get("function", [])
        by_name: dict[str, tree_sitter.Node] = {}
        for function in functions:
            name = _function_name(function)
            if name:
                by_name.setdefault(name, function)
        macros = self._macro_calls(captures.get("macro", []))
        self._find_object_structs(captures.get("struct", []))
        init_modules = self._check_init(captures.get("call", []), by_name, macros)
        self._check_slots(captures.get("decl", []), init_modules)
        self._check_calls(captures.get("call", []), macros)
        self._check_globals(captures.get("decl", []), captures.get("write", []), captures.get("address", []))
        if self.grammar.cpp:
            self._check_static_members(captures.get("static_member", []))
        return self._comments(captures.get("comment", []))

    # macros ---------------------------------------------------------------------------
    def _macro_calls(self, bodies: list[tree_sitter.Node]) -> dict[str, list[tuple[str, tree_sitter.Node, int]]]:
        """Interesting calls inside ``#define`` bodies: macro name -> [(callee, node, row offset)]."""
        found: dict[str, list[tuple[str, tree_sitter.Node, int]]] = {}
        for body in bodies:
            raw = body.text or b""
            if not any(name.encode() in raw for name in INTERESTING_CALLS):
                continue
            definition = body.parent
            macro = _text(definition.child_by_field_name("name")) if definition is not None else ""
            sub_tree = self.grammar.parser.parse(raw)
            calls = self.grammar.captures(self.grammar.query, sub_tree.root_node).get("call", [])
            for call in calls:
                name = _text(call)
                if name in INTERESTING_CALLS:
                    found.setdefault(macro, []).append((name, call, body.start_point[0] + call.start_point[0]))
        return found

    # IA101: single-phase init ---------------------------------------------------------
    def _check_init(self, calls: list[tree_sitter.Node], by_name: dict[str, tree_sitter.Node],
                    macros: dict[str, list[tuple[str, tree_sitter.Node, int]]]) -> dict[str, tree_sitter.Node]:
        """Report single-phase PyInit functions; return the multi-phase ones (module -> PyInit node)."""
        calls_in: dict[int, set[str]] = {}
        for call in calls:
            scope, function = _enclosing(call)
            if function is not None:
                calls_in.setdefault(function.id, set()).add(_text(call))
        inits = {name: node for name, node in by_name.items() if name.startswith("PyInit_")}
        if len(inits) == 1:
            self.module_name = next(iter(inits))[len("PyInit_"):]
        multi_phase: dict[str, tree_sitter.Node] = {}
        reached: set[int] = set()
        for init_name, init in inits.items():
            module = init_name[len("PyInit_"):]
            used = self._reachable_calls(init, by_name, macros, calls_in, reached)
            name_node, _, _ = _declared(init.child_by_field_name("declarator"))
            if MULTI_PHASE_INIT in used:
                multi_phase[module] = init
            elif used & SINGLE_PHASE_CREATORS:
                creator = sorted(used & SINGLE_PHASE_CREATORS)[0]
                self.add("IA101", name_node or init,
                         "%s builds its module with %s (single-phase initialization)" % (init_name, creator),
                         symbol=init_name, statement=init, module=module)
        self._check_pybind11(by_name)
        if not inits:
            for call in calls:
                name = _text(call)
                if name in SINGLE_PHASE_CREATORS:
                    self.add("IA101", call, "%s creates a module with single-phase initialization" % name,
                             symbol=name)
            for macro, entries in macros.items():
                for name, node, row in entries:
                    if name in SINGLE_PHASE_CREATORS:
                        self.add("IA101", node, "macro %s creates a module with %s (single-phase initialization)"
                                 % (macro, name), symbol=macro, row_offset=row - node.start_point[0])
        return multi_phase

    def _reachable_calls(self, init: tree_sitter.Node, by_name: dict[str, tree_sitter.Node],
                         macros: dict[str, list[tuple[str, tree_sitter.Node, int]]],
                         calls_in: dict[int, set[str]], reached: set[int]) -> set[str]:
        """Interesting calls made by ``init`` or by the file's functions and macros it calls (depth 3)."""
        used: set[str] = set()
        frontier, seen = [init], {init.id}
        for _ in range(3):
            following = []
            for function in frontier:
                reached.add(function.id)
                used |= calls_in.get(function.id, set())
                for callee in self.grammar.captures(self.grammar.callees, function).get("callee", []):
                    name = _text(callee)
                    used |= {entry[0] for entry in macros.get(name, ())}
                    target = by_name.get(name)
                    if target is not None and target.id not in seen:
                        seen.add(target.id)
                        following.append(target)
            frontier = following
        return used

    def _check_pybind11(self, by_name: dict[str, tree_sitter.Node]) -> None:
        """IA102-IA105 for ``PYBIND11_MODULE(name, m, options...)`` (pybind11 >= 3 options)."""
        definition = by_name.get("PYBIND11_MODULE")
        if definition is None:
            return
        declarator = definition.child_by_field_name("declarator")
        parameters = declarator.child_by_field_name("parameters") if declarator is not None else None
        arguments = _text(parameters)
        module = (parameters.named_children[0].text or b"").decode("utf-8", "replace") if (
            parameters is not None and parameters.named_children) else None
        anchor = declarator.child_by_field_name("declarator") if declarator is not None else definition
        if "multiple_interpreters::per_interpreter_gil" in arguments:
            pass
        elif "multiple_interpreters::not_supported" in arguments:
            self.add("IA103", anchor, "PYBIND11_MODULE(%s) passes py::multiple_interpreters::not_supported()"
                     % module, symbol=module, statement=definition, module=module)
        elif "multiple_interpreters::shared_gil" in arguments:
            self.add("IA104", anchor, "PYBIND11_MODULE(%s) passes py::multiple_interpreters::shared_gil()"
                     % module, symbol=module, statement=definition, module=module)
        else:
            self.add("IA102", anchor, "PYBIND11_MODULE(%s) passes no py::multiple_interpreters option "
                     "(pybind11 >= 3 declares nothing below per-interpreter GIL only when asked)" % module,
                     symbol=module, statement=definition, module=module)
        if "mod_gil_not_used" not in arguments:
            self.add("IA105", anchor, "PYBIND11_MODULE(%s) passes no py::mod_gil_not_used()" % module,
                     symbol=module, statement=definition, module=module)

    # IA102-IA105: module slots ---------------------------------------------------------
    def _check_slots(self, declarations: list[tree_sitter.Node], multi_phase: dict[str, tree_sitter.Node]) -> None:
        arrays: dict[str, list[tuple[tree_sitter.Node, tree_sitter.Node, tree_sitter.Node]]] = {}
        for declaration in declarations:
            if "PyModuleDef_Slot" not in {word for word, _ in _type_words(declaration.child_by_field_name("type"))}:
                continue
            for declarator in declaration.children_by_field_name("declarator"):
                value = declarator.child_by_field_name("value") if declarator.type == "init_declarator" else None
                name, _, _ = _declared(declarator)
                if value is not None and value.type == "initializer_list" and name is not None:
                    arrays.setdefault(_text(name), []).append((declaration, name, value))
        for array_name, parts in arrays.items():
            declaration, name_node, _ = parts[0]
            values: list[tuple[str, tree_sitter.Node]] = []
            has_gil = False
            for _, _, value in parts:
                for key, entry_value in self._slot_entries(value):
                    if key in _SLOT_MULTIPLE_INTERPRETERS:
                        values.append((_text(entry_value), entry_value))
                    elif key in _SLOT_GIL:
                        has_gil = True
            self._judge_slots(array_name, name_node, declaration, values, has_gil)
        if not arrays:
            for module, init in multi_phase.items():
                name_node, _, _ = _declared(init.child_by_field_name("declarator"))
                anchor = name_node or init
                self.add("IA102", anchor, "PyInit_%s uses multi-phase init but the file defines no "
                         "PyModuleDef_Slot array with Py_mod_multiple_interpreters" % module,
                         symbol="PyInit_" + module, statement=init, module=module)
                self.add("IA105", anchor, "PyInit_%s: no Py_mod_gil slot in this file" % module,
                         symbol="PyInit_" + module, statement=init, module=module)

    def _slot_entries(self, initializer: tree_sitter.Node) -> Iterable[tuple[str, tree_sitter.Node]]:
        """(slot id text, value node) of each ``{slot, value}`` entry, looking through ERROR nodes."""
        stack = list(reversed(initializer.named_children))
        while stack:
            entry = stack.pop()
            if entry.type == "ERROR":
                stack.extend(reversed(entry.named_children))
                continue
            if entry.type != "initializer_list":
                continue
            parts = [child for child in entry.named_children if child.type != "comment"]
            if parts and all(part.type == "initializer_pair" for part in parts):
                fields = {}
                for pair in parts:
                    designator = _text(pair.child_by_field_name("designator")).lstrip(".")
                    fields[designator] = pair.child_by_field_name("value")
                if fields.get("slot") is not None and fields.get("value") is not None:
                    yield _text(fields["slot"]), fields["value"]
            elif len(parts) >= 2:
                yield _text(parts[0]), parts[1]

    def _judge_slots(self, array_name: str, name_node: tree_sitter.Node, declaration: tree_sitter.Node,
                     values: list[tuple[str, tree_sitter.Node]], has_gil: bool) -> None:
        kinds = [(_slot_value_kind(text), text, node) for text, node in values]
        known = [entry for entry in kinds if entry[0] is not None]
        if not values:
            self.add("IA102", name_node, "slot array %s has no Py_mod_multiple_interpreters entry" % array_name,
                     symbol=array_name, statement=declaration)
        elif known and not any(kind == "per-interpreter-gil" for kind, _, _ in known):
            kind, text, node = known[-1]
            code = "IA103" if kind == "not-supported" else "IA104"
            self.add(code, node, "slot array %s declares Py_mod_multiple_interpreters = %s" % (array_name, text),
                     symbol=array_name, statement=declaration)
        if not has_gil:
            self.add("IA105", name_node, "slot array %s has no Py_mod_gil entry" % array_name,
                     symbol=array_name, statement=declaration)

    # IA203 / IA204: calls -----------------------------------------------------------
    def _check_calls(self, calls: list[tree_sitter.Node],
                     macros: dict[str, list[tuple[str, tree_sitter.Node, int]]]) -> None:
        for call in calls:
            self._report_call(_text(call), call, 0)
        for macro, entries in macros.items():
            for name, node, row in entries:
                self._report_call(name, node, row - node.start_point[0], macro)

    def _report_call(self, name: str, node: tree_sitter.Node, row_offset: int, macro: Optional[str] = None) -> None:
        where = " (in macro %s)" % macro if macro else ""
        if name in STATE_LOOKUPS:
            self.add("IA203", node, "%s looks a module up by its definition, one per process%s" % (name, where),
                     symbol=name, row_offset=row_offset)
        elif name in GILSTATE_CALLS:
            self.add("IA204", node, "%s assumes one interpreter per thread%s" % (name, where),
                     symbol=name, row_offset=row_offset)

    # IA201 / IA202: globals -----------------------------------------------------------
    def _find_object_structs(self, structs: list[tree_sitter.Node]) -> None:
        """Remember struct and typedef names whose first member is a PyObject header."""
        for struct in structs:
            body = struct.child_by_field_name("body")
            members = [child for child in body.named_children if child.type == "field_declaration"] if body else []
            if not members:
                continue
            _, _, pointers = _declared(members[0].child_by_field_name("declarator"))
            if pointers or not self._is_object_type(_declaration_words(members[0]), 0):
                continue
            name = struct.child_by_field_name("name")
            if name is not None:
                self.object_structs.add(_text(name))
            parent = struct.parent
            if parent is not None and parent.type == "type_definition":
                for alias in parent.children_by_field_name("declarator"):
                    alias_name, _, _ = _declared(alias)
                    if alias_name is not None:
                        self.object_structs.add(_text(alias_name))

    def _is_object_type(self, words: list[tuple[str, Optional[str]]], pointers: int) -> bool:
        if pointers == FUNCTION_POINTER:
            return False
        for word, scope in words:
            if word == "PyTypeObject" and pointers == 0:
                continue  # a static type: IA202
            if word in ("PyObject", "PyVarObject") or _PY_OBJECT_TYPE.match(word) or word in self.object_structs:
                return True
            if scope in _BINDING_NAMESPACES and word in _BINDING_OBJECT_TYPES:
                return True
        return False

    def _check_globals(self, declarations: list[tree_sitter.Node], writes: list[tree_sitter.Node],
                       addresses: list[tree_sitter.Node]) -> None:
        candidates: dict[tuple[Optional[int], str], _Candidate] = {}
        misparsed = _misparsed_items(self.tree.root_node) if self.tree.root_node.has_error else set()
        shared: dict[tuple[Optional[int], str], tuple] = {}  # one report per variable, at its definition
        for declaration in declarations:
            storage = _storage(declaration)
            scope, function = _enclosing(declaration)
            if scope == "other" or (scope == "function" and "static" not in storage):
                continue
            if "static" not in storage and _inside_error(declaration):
                continue  # the parser lost track of the scope (e.g. a C++ class body behind macros)
            if "extern" in storage and not any(d.type == "init_declarator"
                                               for d in declaration.children_by_field_name("declarator")):
                continue
            if function is None and declaration.id in misparsed and (
                    "static" not in storage or declaration.has_error):
                continue
            type_node = declaration.child_by_field_name("type")
            type_words = _declaration_words(declaration)
            words = {word for word, _ in type_words}
            if words & TABLE_TYPES:
                continue
            where = "file scope" if function is None else "function %s" % (_function_name(function) or "?")
            kind = "static " if "static" in storage else ""
            for declarator in declaration.children_by_field_name("declarator"):
                name_node, is_function, pointers = _declared(declarator)
                if name_node is None or is_function or name_node.type == "qualified_identifier":
                    continue
                name = _text(name_node)
                key = (function.id if function is not None else None, name)
                defines = declarator.type == "init_declarator"
                if "PyTypeObject" in words and pointers == 0:
                    key = (None, name)  # a type has one name per file, whatever scope the parser saw
                    report = ("IA202", name_node, "%sPyTypeObject %s is a static type shared by every interpreter"
                              % (kind, name), declaration, defines)
                elif self._is_object_type(type_words, pointers):
                    report = ("IA201", name_node, "%s%s %s at %s holds a Python object shared by every interpreter"
                              % (kind, _type_label(type_node), "*" * pointers + name, where), declaration, defines)
                else:
                    candidates.setdefault(key, _Candidate(name, name_node, declaration, where))
                    continue
                if key not in shared or (defines and not shared[key][4]):
                    shared[key] = report
        for code, name_node, detail, declaration, _ in shared.values():
            self.add(code, name_node, detail, symbol=_text(name_node), statement=declaration)
        if candidates:
            self._check_writes(candidates, writes, addresses)

    def _check_writes(self, candidates: dict[tuple[Optional[int], str], _Candidate],
                      writes: list[tree_sitter.Node], addresses: list[tree_sitter.Node]) -> None:
        names = {name for _, name in candidates}
        locals_cache: dict[int, set[str]] = {}
        written: dict[tuple[Optional[int], str], tree_sitter.Node] = {}
        targets = [(node, "written") for node in writes]
        targets += [(node, "address") for node in addresses]
        for node, how in targets:
            base = _written_base(node) if how == "written" else (node if node.type == "identifier" else None)
            if base is None:
                continue
            name = _text(base)
            if name not in names:
                continue
            _, function = _enclosing(base)
            if function is not None and (function.id, name) in candidates:
                key = (function.id, name)
            elif function is not None and name in self._locals(function, locals_cache):
                continue
            else:
                key = (None, name)
            if key in candidates and key not in written:
                written[key] = base
        for key, node in written.items():
            candidate = candidates[key]
            line = node.start_point[0] + 1
            self.add("IA201", candidate.name_node,
                     "%s at %s is process-wide mutable state (written at line %d)" % (candidate.name, candidate.where,
                                                                                       line),
                     symbol=candidate.name, statement=candidate.statement)

    def _locals(self, function: tree_sitter.Node, cache: dict[int, set[str]]) -> set[str]:
        """Names of the parameters and non-static locals of ``function`` (they shadow globals)."""
        if function.id in cache:
            return cache[function.id]
        names: set[str] = set()
        for declarator in self.grammar.captures(self.grammar.locals, function).get("local", []):
            if "static" in _storage(declarator.parent):
                continue
            name, _, _ = _declared(declarator)
            if name is not None:
                names.add(_text(name))
        cache[function.id] = names
        return names

    def _check_static_members(self, specifiers: list[tree_sitter.Node]) -> None:
        """C++ ``static`` data members of a Python object type."""
        for specifier in specifiers:
            if _text(specifier) != "static":
                continue
            member = specifier.parent
            type_node = member.child_by_field_name("type")
            for declarator in member.children_by_field_name("declarator"):
                name_node, is_function, pointers = _declared(declarator)
                if name_node is None or is_function:
                    continue
                name = _text(name_node)
                member_words = _declaration_words(member)
                if "PyTypeObject" in {w for w, _ in member_words} and pointers == 0:
                    self.add("IA202", name_node, "static member PyTypeObject %s is a static type" % name,
                             symbol=name, statement=member)
                elif self._is_object_type(member_words, pointers):
                    self.add("IA201", name_node, "static member %s %s holds a Python object shared by every "
                             "interpreter" % (_type_label(type_node), "*" * pointers + name), symbol=name, statement=member)

    # comments ------------------------------------------------------------------------------
    def _comments(self, nodes: list[tree_sitter.Node]) -> list[Comment]:
        comments = []
        for node in nodes:
            (row, col), (end_row, end_col) = node.start_point, node.end_point
            before = self.lines[row][:col] if row < len(self.lines) else b""
            after = self.lines[end_row][end_col:] if end_row < len(self.lines) else b""
            comments.append(Comment(row + 1, end_row + 1, _text(node), alone=not before.strip() and not after.strip()))
        return comments

    def noncode_lines(self, comments: list[Comment]) -> frozenset[int]:
        lines = {number for number, text in enumerate(self.lines, 1) if not text.strip()}
        for comment in comments:
            if comment.alone:
                lines.update(range(comment.line, comment.end_line + 1))
        return frozenset(lines)


class CFamilyChecker(SourceChecker):
    """C or C++ through tree-sitter; ``.h`` headers fall back to C++ when that parses better."""

    codes = ("IA101", "IA102", "IA103", "IA104", "IA105", "IA201", "IA202", "IA203", "IA204")

    def __init__(self, language: str, suffixes: tuple[str, ...]) -> None:
        self.language = language
        self.suffixes = suffixes

    def check(self, source: bytes, path: str) -> FileResult:
        prepared = prepare(source)
        grammar = _grammar("c" if self.language == "c" else "c++")
        tree = grammar.parser.parse(prepared)
        language = self.language
        if self.language == "c" and path.endswith(".h") and tree.root_node.has_error:
            cpp = _grammar("c++")
            cpp_tree = cpp.parser.parse(prepared)
            if cpp.error_count(cpp_tree) < grammar.error_count(tree):
                grammar, tree, language = cpp, cpp_tree, "c++"
        lines = source.split(b"\n")
        analysis = _Analysis(grammar, path, prepared, tree, lines)
        comments = analysis.run()
        hits = sorted(analysis.hits, key=lambda hit: (hit.location.line, hit.location.column, hit.code))
        return FileResult(path, language, len(lines) - (1 if source.endswith(b"\n") else 0), hits, comments,
                          analysis.noncode_lines(comments), analysis.problems)


def c_checker() -> CFamilyChecker:
    return CFamilyChecker("c", (".c", ".h"))


def cpp_checker() -> CFamilyChecker:
    return CFamilyChecker("c++", (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".tpp"))
