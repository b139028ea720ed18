"""Sphinx configuration of the nanomsg-rs documentation (``make docs``).

Sphinx, because autodoc and napoleon turn the package's own docstrings (Google style:
Args/Returns/Raises) into the API reference, so the reference cannot drift from the code;
pynng and pyzmq document themselves the same way.

The build imports the *installed* ``nanomsg_rs`` (``make docs`` installs the release wheel
first): the native part, ``nanomsg_rs._native``, exists only once compiled. Its methods carry
their parameters (PyO3's ``__text_signature__``) but no types; the types come from the
hand-written stub ``_native.pyi`` (checked against the module by stubtest), which
:func:`stub_signature` reads.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nanomsg_rs
from nanomsg_rs._options import _OptionProperty

project = "nanomsg-rs"
author = "the nanomsg-rs authors"
copyright = "the nanomsg-rs authors"
release = version = nanomsg_rs.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
]

exclude_patterns = ["_build", "snippets", "screenshots", "requirements.txt"]
# The native module's docstrings (Rust doc comments) mark code with single backticks.
default_role = "literal"
html_theme = "furo"
html_title = f"nanomsg-rs {release}"
html_static_path: list[str] = []

# Every reference must resolve: a broken :class:, :func:, :doc: or :ref: is a warning, and
# `make docs` builds with -W (warnings are errors).
nitpicky = True
nitpick_ignore = [
    # annotations that name types from outside the package (no intersphinx: builds offline)
    ("py:class", "Buffer"),
    ("py:class", "typing_extensions.Buffer"),
    ("py:class", "TracebackType"),
    ("py:class", "types.TracebackType"),
    ("py:class", "T"),
    ("py:class", "nanomsg_rs._socket.T"),
    ("py:class", "enum.IntEnum"),
    ("py:class", "OSError"),
    ("py:class", "NamedTuple"),
    ("py:class", "typing.NamedTuple"),
    ("py:class", "os.PathLike"),
    ("py:class", "PathLike"),
]
nitpick_ignore_regex = [
    # private helper classes that appear in annotations and bases
    ("py:class", r"nanomsg_rs\.(compat\.)?\w+\._\w+"),
    ("py:class", r"_\w+"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# The site's links to other sites cannot be checked offline; `make docs` runs the linkcheck
# builder for everything else (links between pages, to files and to anchors).
linkcheck_ignore = [r"https?://"]
linkcheck_anchors = True


# -- signatures of the native module, typed from its stub ------------------------------------

STUB = Path(nanomsg_rs.__file__).with_name("_native.pyi")


def _stub_functions() -> dict[str, list[ast.FunctionDef]]:
    """Every function of ``_native.pyi`` by qualified name (``Socket.send``, ``poll``);
    an overloaded one has several definitions."""
    tree = ast.parse(STUB.read_text())
    found: dict[str, list[ast.FunctionDef]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef):
                found.setdefault(prefix + node.name, []).append(node)

    visit(tree.body, "")
    return found


STUB_FUNCTIONS = _stub_functions()


def _native_qualname(obj: Any) -> str | None:
    """``Socket.send`` for a native method or property, ``poll`` for a function, ``Message``
    for a class; None for anything not defined by ``nanomsg_rs._native``."""
    owner = getattr(obj, "__objclass__", None)
    if owner is not None and getattr(owner, "__module__", None) == "nanomsg_rs._native":
        return f"{owner.__name__}.{obj.__name__}"
    if getattr(obj, "__module__", None) == "nanomsg_rs._native":
        return getattr(obj, "__qualname__", None)
    bound_to = getattr(obj, "__self__", None)  # a classmethod such as Socket.adopt
    if isinstance(bound_to, type) and bound_to.__module__ == "nanomsg_rs._native":
        return f"{bound_to.__name__}.{obj.__name__}"
    return None


def _union(annotations: list[str]) -> str:
    parts: list[str] = []
    for a in annotations:
        for p in a.split(" | "):
            if p not in parts:
                parts.append(p)
    return " | ".join(parts)


def stub_signature(qualname: str, runtime_args: str | None) -> tuple[str, str] | None:
    """``(args, return annotation)`` of a native function as its stub types it.

    The parameters are the runtime's (names, defaults, ``*``), each annotated with the
    stub's type; an overloaded function (``getsockopt``) gets the union of its overloads.
    """
    defs = STUB_FUNCTIONS.get(qualname) or STUB_FUNCTIONS.get(f"{qualname}.__new__")
    if not defs:
        return None
    params: dict[str, list[str]] = {}
    returns: list[str] = []
    for d in defs:
        args = d.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if a.annotation is not None:
                params.setdefault(a.arg, []).append(ast.unparse(a.annotation))
        if d.returns is not None:
            returns.append(ast.unparse(d.returns))
    property_like = any(
        isinstance(dec, ast.Name) and dec.id == "property" for d in defs for dec in d.decorator_list
    )
    if property_like:
        return ("", _union(returns)) if runtime_args is not None else None
    if runtime_args is None:
        return None
    func = ast.parse(f"def f{runtime_args}: pass").body[0]
    assert isinstance(func, ast.FunctionDef)
    for a in [*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs]:
        if a.arg in params:
            a.annotation = ast.parse(_union(params[a.arg]), mode="eval").body
    text = f"({ast.unparse(func.args)})"
    ret = _union(returns) if returns and not qualname.endswith("__new__") else ""
    if qualname in ("Message",):  # a class: no return annotation
        ret = ""
    return text, ret.replace("Self", qualname.split(".")[0])


def process_signature(
    app: Any, what: str, name: str, obj: Any, options: Any, args: str | None, retann: str
) -> tuple[str, str] | None:
    qualname = _native_qualname(obj)
    if qualname is None:
        return None
    typed = stub_signature(qualname, args)
    if typed is None:
        return None
    return typed


# -- the package's private modules, as the public names the reference documents ---------------

PRIVATE_MODULES = ("nanomsg_rs._enums.", "nanomsg_rs._errors.", "nanomsg_rs._native.",
                   "nanomsg_rs._socket.")  # fmt: skip


def public_reference(app: Any, env: Any, node: Any, contnode: Any) -> Any:
    """Resolves ``nanomsg_rs._enums.Protocol`` (the name a type annotation carries) as
    ``nanomsg_rs.Protocol``, where the reference documents it."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith(PRIVATE_MODULES):
        return None
    public = "nanomsg_rs." + target.split(".", 2)[2]
    domain = env.get_domain("py")
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def attribute_type(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Napoleon reads an attribute docstring's first line as ``type: description``, which
    would take ``Linger time in ms (-1`` for a type. So: the docstring of an option property,
    or of a property of the native module, gets its Python type put first (``int``, ``bool``,
    ``str``; the stub's for native ones; a property's return annotation), and any other
    attribute's a bare ``:`` (no type)."""
    if what not in ("attribute", "property", "data") or not lines:
        return
    kind = None
    if isinstance(obj, _OptionProperty):
        kind = obj.spec.type
    elif (qualname := _native_qualname(obj)) is not None:
        typed = stub_signature(qualname, "()")
        if typed is not None and typed[0] == "":
            kind = typed[1]
    elif isinstance(obj, property) and obj.fget is not None:
        kind = getattr(obj.fget, "__annotations__", {}).get("return")
    lines[0] = f"{kind or ''}: {lines[0]}"  # ": text" is a description without a type


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", process_signature)
    app.connect("missing-reference", public_reference)
    # before napoleon (priority 500), which reads the type off the first line
    app.connect("autodoc-process-docstring", attribute_type, priority=400)
