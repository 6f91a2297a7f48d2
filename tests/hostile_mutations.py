"""Hypothesis strategies that turn a bundled scenario into a hostile one.

Each strategy draws *one* mutation of a scenario — of a value's type or size, of the structure, of
the raw text or bytes, or aliases — and returns the bytes of the mutated file together with a short
label saying what was done (hypothesis prints it with a failing example). Mutations start from a
real scenario so that most of the file is still valid and the loader gets deep into it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hostile import BUNDLED, SCENARIOS
from hypothesis import strategies as st


def scenario_data(name: str) -> dict[str, Any]:
    return yaml.safe_load((SCENARIOS / name).read_text(encoding="utf-8"))


def key_paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a parsed document (mappings by key, lists by index), the root excluded."""
    paths = []
    if isinstance(data, dict):
        for key, value in data.items():
            paths.append(prefix + (key,))
            paths.extend(key_paths(value, prefix + (key,)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            paths.append(prefix + (index,))
            paths.extend(key_paths(value, prefix + (index,)))
    return paths


def _parent(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


HOSTILE_VALUES = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, -1, 1, 10**9, 10**9 + 1, 10**12, 2**63, 10**30, 999_999_999]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-300, 1e308, -0.0, 0.5, 1.5]),
    st.text(max_size=12),
    st.sampled_from(["", " ", "08:00", "25:99", "1e309", "-1", "nan", "inf", "45min", "-3h", "1e9d", "0h",
                     "2023-02-30", "99999-01-01", "tue", "none", "null", "~", "yes", "24h", "06:00-05:59",
                     # paths, for extends and uncertain.sample: system files, devices, loops, nonsense
                     "/etc/passwd", "/dev/zero", "/dev/stdin", "/", ".", "..", "a\x00b", "x" * 5000,
                     "../../../../etc/shadow", "phase1-2023.yaml", "mutant.yaml", "~/.ssh/id_rsa"]),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.just([]),
    st.just({}),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.sampled_from(["dist", "mean", "sd", "value", "low", "high", "x"]),
                    st.one_of(st.integers(-3, 10), st.sampled_from(["fixed", "poisson", "lognormal", "h"])),
                    max_size=3),
)
"""Values of every YAML type and of hostile sizes."""

SIZE_SETTINGS = [
    ("groups", "*", "people", 10**9),
    ("period", "end", dt.date(9999, 12, 31)),
    ("period", "start", dt.date(1, 1, 1)),
    ("crossings", "*", "lanes", 10**9),
    ("run", "replications", 10**9),
]
"""Values that are valid, or nearly, but large: what a size guard must catch before a run."""


@st.composite
def structured_mutation(draw: st.DrawFn, names: list[str] = BUNDLED) -> tuple[str, bytes]:
    """Change a value's type or size, delete a key, add an unknown one, or reshape a branch."""
    name = draw(st.sampled_from(names))
    data = scenario_data(name)
    paths = key_paths(data)
    count = draw(st.integers(min_value=1, max_value=3))
    labels = []
    for _ in range(count):
        paths = key_paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(data, path)
        kind = draw(st.sampled_from(["value", "value", "delete", "unknown key", "wrap in list", "flatten"]))
        if kind == "value":
            parent[path[-1]] = draw(HOSTILE_VALUES)
        elif kind == "delete":
            del parent[path[-1]]
        elif kind == "unknown key":
            target = parent[path[-1]]
            if isinstance(target, dict):
                target[draw(st.text(min_size=1, max_size=8))] = draw(HOSTILE_VALUES)
            else:
                parent[path[-1]] = {"unexpected": target}
        elif kind == "wrap in list":
            parent[path[-1]] = [parent[path[-1]]]
        else:  # a mapping becomes the list of its values, a list its first item
            target = parent[path[-1]]
            parent[path[-1]] = list(target.values()) if isinstance(target, dict) else (
                target[0] if isinstance(target, list) and target else target)
        labels.append(f"{kind} at {'.'.join(map(str, path))}")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return f"{name}: {'; '.join(labels)}", text.encode("utf-8")


@st.composite
def size_mutation(draw: st.DrawFn, names: list[str] = BUNDLED) -> tuple[str, bytes]:
    """Set one or two of :data:`SIZE_SETTINGS` (``*``: every key of that mapping)."""
    name = draw(st.sampled_from(names))
    data = scenario_data(name)
    chosen = draw(st.lists(st.sampled_from(SIZE_SETTINGS), min_size=1, max_size=2, unique=True))
    for setting in chosen:
        *path, value = setting
        _assign(data, path, value)
    return f"{name}: sizes {chosen}", yaml.safe_dump(data, sort_keys=False).encode("utf-8")


def _assign(data: dict, path: list, value: Any) -> None:
    head, *rest = path
    if head == "*":
        for key in list(data):
            _assign(data, [key, *rest], value) if rest else data.__setitem__(key, value)
        return
    if not rest:
        data[head] = value
    elif isinstance(data.get(head), dict):
        _assign(data[head], rest, value)
    else:
        data[head] = {}
        _assign(data[head], rest, value)


YAML_TOKENS = ["&x ", "*x", "*undefined", "!!python/object/apply:os.system ['true'] ",
               "!!binary aGk= ", "!!set {a, b} ", "!custom ", "<<: *x\n", "{", "}", "[", "]", "- ", "? ",
               "%YAML 1.1\n---\n", "---\n", "...\n", ": ", "'", '"', "|\n", ">-\n", "\t", "#", "@", "`",
               "\\", "\x00", "\x1b[31m", "\u202e", "\ufeff", "\r", "\r\n", "  ", "\n  ", "0x", "0o", ".inf",
               "!!float ", "!!int ", "!!str ", "!!timestamp ", "!!map ", "!!seq ", "!!null "]


@st.composite
def text_mutation(draw: st.DrawFn, names: list[str] = BUNDLED) -> tuple[str, bytes]:
    """Edit the raw text: insert YAML tokens or random bytes, cut, duplicate or re-indent lines."""
    name = draw(st.sampled_from(names))
    data = (SCENARIOS / name).read_bytes()
    labels = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        position = draw(st.integers(min_value=0, max_value=len(data)))
        kind = draw(st.sampled_from(["token", "bytes", "cut", "truncate", "duplicate line", "indent", "dedent"]))
        if kind == "token":
            data = data[:position] + draw(st.sampled_from(YAML_TOKENS)).encode("utf-8") + data[position:]
        elif kind == "bytes":
            data = data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:]
        elif kind == "cut":
            data = data[:position] + data[position + draw(st.integers(1, 200)):]
        elif kind == "truncate":
            data = data[:position]
        else:
            lines = data.split(b"\n")
            index = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
            if kind == "duplicate line":
                lines.insert(index, lines[index])
            elif kind == "indent":
                lines[index] = b"   " + lines[index]
            else:
                lines[index] = lines[index].lstrip()
            data = b"\n".join(lines)
        labels.append(f"{kind} at {position}")
    return f"{name}: {'; '.join(labels)}", data


@st.composite
def alias_mutation(draw: st.DrawFn, names: list[str] = BUNDLED) -> tuple[str, bytes]:
    """Anchor a value of the scenario and alias it elsewhere, in nests of aliases up to a bomb."""
    name = draw(st.sampled_from(names))
    text = (SCENARIOS / name).read_text(encoding="utf-8")
    levels = draw(st.integers(min_value=1, max_value=12))
    width = draw(st.integers(min_value=1, max_value=12))
    lines = ["x_0: &x_0 [" + ", ".join(["1"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"x_{level}: &x_{level} [" + ", ".join([f"*x_{level - 1}"] * width) + "]")
    where = draw(st.sampled_from(["name", "description", "run", "slowdowns", "loop"]))
    if where == "loop":
        lines.append(f"x_loop: &x_loop [*x_{levels - 1}, *x_loop]")
        where, last = "description", "x_loop"
    else:
        last = f"x_{levels - 1}"
    body = "\n".join(line for line in text.splitlines() if not line.startswith(f"{where}:"))
    return (f"{name}: {levels} levels of {width} aliases at {where}",
            ("\n".join(lines) + f"\n{where}: *{last}\n" + body + "\n").encode("utf-8"))


HOSTILE_PATHS = st.sampled_from(["/etc/passwd", "/etc/hostname", "/dev/zero", "/dev/urandom", "/dev/stdin", "/proc/self/environ",
                                 "/", ".", "..", "a\x00b", "x" * 5000, "../../../../etc/shadow", "mutant.yaml",
                                 "phase1-2023.yaml", "~/.ssh/id_rsa", "README.md", "", " ", "nowhere.yaml"])


@st.composite
def path_mutation(draw: st.DrawFn, names: list[str] = BUNDLED) -> tuple[str, bytes]:
    """Point ``extends`` or ``uncertain.sample`` at a hostile path: a system file, a device, itself."""
    name = draw(st.sampled_from(names))
    data = scenario_data(name)
    target = draw(st.sampled_from(["extends", "sample"]))
    path = draw(HOSTILE_PATHS)
    if target == "extends":
        data["extends"] = path
    else:
        data.setdefault("uncertain", {})["sample"] = path
    return f"{name}: {target} = {path[:40]!r}", yaml.safe_dump(data, sort_keys=False).encode("utf-8")


def any_mutation(names: list[str] = BUNDLED) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.one_of(structured_mutation(names), structured_mutation(names), text_mutation(names),
                     alias_mutation(names), size_mutation(names), path_mutation(names))


def write_case(folder: Path, content: bytes, name: str = "mutant.yaml") -> Path:
    """Write a mutated scenario beside the bundled ones (so relative ``extends`` still resolves)."""
    path = folder / name
    path.write_bytes(content)
    return path
