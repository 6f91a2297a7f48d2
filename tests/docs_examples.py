"""Run the examples of a documentation page, so that what the page shows stays true.

A page's fenced code blocks are found by sybil and evaluated in order, in one scratch folder per
page (holding a copy of ``scenarios/``, so relative paths work as they do in a clone):

* ```` ```yaml title="NAME" ```` (or ``csv``) — written to ``NAME`` (the reader saves it; so does
  the test);
* ```` ```console ```` — lines starting ``$ `` are commands (a trailing ``\\`` continues one), run
  with ``bash`` using this environment's ``bordersim``; the lines after a command are its expected
  output (stdout and stderr together), compared loosely: ``...`` on a line of its own stands for
  any number of lines, ``...`` within a line for any text, and numbers may differ by 10% (or one
  unit of their last digit), since a page may be written with slightly different random numbers
  in mind. A command expects exit code 0, or the ``N`` of a trailing ``# exit N``;
* ```` ```python ```` — executed (in the scratch folder), sharing one namespace per page;
* ```` ```bash ```` — the installation one-liners at the top of the README: the part that runs
  ``.venv/bin/bordersim`` is run here with this environment's ``bordersim`` (its output is what a
  following ``console`` block with the same command shows); ``pip install`` and the test command
  are not (the test command is the one CI runs, which is checked instead).

Blocks in any other language (``text``, ``yaml`` without a title …) are not run.

After changing a page, ``python tests/docs_examples.py PAGE...`` runs it and writes the actual
output of every console command whose page output no longer matches back into the page (outputs
that still match, ``...`` included, are left as written): sample outputs are pasted, never typed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sybil import Document, Region
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INFO = re.compile(r'(?P<language>console|yaml|csv|python|bash)(?:[ \t]+title="(?P<title>[^"]+)")?[^\n]*$\n', re.MULTILINE)
NUMBER = re.compile(r"-?\d[\d,_]*(?:\.\d+)?")
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


@dataclass
class Block:
    language: str
    title: str | None
    source: str
    line: int


def _blocks(document: Document):
    lexer = RawFencedCodeBlockLexer(info_pattern=INFO)
    for region in lexer(document):
        lexemes = region.lexemes
        block = Block(lexemes["language"], lexemes.get("title"), str(lexemes["source"]),
                      document.text.count("\n", 0, region.start) + 1)
        yield Region(region.start, region.end, parsed=block, evaluator=evaluate)


def parse(path: Path) -> Document:
    return Document.parse(str(path), _blocks)


TUTORIAL = ROOT / "docs" / "tutorial" / "first-scenario.md"


def prepare(path: Path, scratch: Path) -> None:
    """What a reader has when starting ``path``: the repository's scenarios and, for every page but
    the README and the tutorial, the tutorial's ``first-scenario.yaml`` (the how-tos build on it)."""
    shutil.copytree(ROOT / "scenarios", scratch / "scenarios")
    if path.resolve() in (TUTORIAL, ROOT / "README.md"):
        return
    for region in _blocks(Document(TUTORIAL.read_text(encoding="utf-8"), str(TUTORIAL))):
        block = region.parsed
        if block.language == "yaml" and block.title:
            (scratch / block.title).write_text(block.source, encoding="utf-8")


def run_page(path: Path, scratch: Path) -> int:
    """Evaluate every example of ``path`` in ``scratch``; returns how many blocks ran."""
    prepare(path, scratch)
    document = parse(path)
    document.namespace.update({"scratch": scratch, "outputs": {}, "page": path})
    ran = 0
    for example in document:
        example.evaluate()
        ran += example.parsed.language != "text"
    return ran


def update_page(path: Path, scratch: Path) -> int:
    """Run ``path``'s examples and rewrite the outputs that no longer match; returns how many changed."""
    prepare(path, scratch)
    document = parse(path)
    document.namespace.update({"scratch": scratch, "outputs": {}, "page": path})
    text = path.read_text(encoding="utf-8")
    changed = 0
    for example in document:
        block: Block = example.parsed
        if block.language != "console":
            example.evaluate()
            continue
        rewritten = []
        for command, expected, written in _console_commands(block.source):
            match = EXIT.search(command)
            completed = run_command(command[: match.start()] if match else command, document.namespace)
            actual = (completed.stdout + completed.stderr).splitlines()
            keep = any(line.strip() for line in expected) and compare_output(expected, actual, exact=True) is None
            changed += not keep
            rewritten += [*written, *[line.rstrip() for line in (expected if keep else actual)]]
        while rewritten and not rewritten[-1]:
            rewritten.pop()
        text = text.replace(block.source, "\n".join(rewritten) + "\n", 1)
    path.write_text(text, encoding="utf-8")
    return changed


def evaluate(example) -> None:
    block: Block = example.parsed
    namespace = example.namespace
    where = f"{namespace['page'].relative_to(ROOT)}:{block.line}"
    if block.language in ("yaml", "csv"):
        if block.title:
            (namespace["scratch"] / block.title).write_text(block.source, encoding="utf-8")
    elif block.language == "console":
        for command, expected, _ in _console_commands(block.source):
            _check_command(command, expected, namespace, where)
    elif block.language == "python":
        _run_python(block.source, namespace, where)
    elif block.language == "bash":
        _run_install_line(block.source, namespace, where)


def _console_commands(source: str) -> list[tuple[str, list[str], list[str]]]:
    """(command, expected output lines, the command's lines as written) of a console block."""
    commands: list[tuple[str, list[str], list[str]]] = []
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("$ "):
            if commands:
                commands[-1][1].append(line)
            index += 1
            continue
        written = [line]
        command = line[2:]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            written.append(lines[index])
            command = command[:-1] + " " + lines[index].strip()
        commands.append((command, [], written))
        index += 1
    return commands


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment["PYTHONPATH"] = f"{ROOT}{os.pathsep}{environment.get('PYTHONPATH', '')}".rstrip(os.pathsep)
    environment["COLUMNS"] = "100"
    return environment


def run_command(command: str, namespace: dict) -> subprocess.CompletedProcess[str]:
    outputs = namespace["outputs"]
    if command not in outputs:
        outputs[command] = subprocess.run(["bash", "-c", command], cwd=namespace["scratch"], env=_environment(),
                                          capture_output=True, text=True, check=False, timeout=900)
    return outputs[command]


def _check_command(command: str, expected: list[str], namespace: dict, where: str) -> None:
    wanted_code = 0
    match = EXIT.search(command)
    if match:
        wanted_code = int(match.group(1))
        command = command[: match.start()]
    completed = run_command(command, namespace)
    actual = (completed.stdout + completed.stderr).splitlines()
    assert completed.returncode == wanted_code, (
        f"{where}: `{command}` exited {completed.returncode}, the page says {wanted_code}:\n"
        + "\n".join(actual[-30:]))
    problem = compare_output(expected, actual)
    assert problem is None, f"{where}: `{command}`: {problem}\n--- actual output:\n" + "\n".join(actual)


def compare_output(expected: list[str], actual: list[str], exact: bool = False) -> str | None:
    """None if ``actual`` matches ``expected`` loosely (see the module docstring), else why not."""
    expected = [line.rstrip() for line in expected]
    while expected and not expected[-1]:
        expected.pop()
    if not expected:
        return None
    return _match(expected, [line.rstrip() for line in actual], 0, 0, exact)


def _match(expected: list[str], actual: list[str], i: int, j: int, exact: bool) -> str | None:
    while i < len(expected):
        if expected[i].strip() == "...":
            if i + 1 == len(expected):
                return None
            for start in range(j, len(actual) + 1):
                if _match(expected, actual, i + 1, start, exact) is None:
                    return None
            return f"nothing matches from the page's line {expected[i + 1]!r} on"
        if j >= len(actual):
            return f"output ended; the page expects {expected[i]!r}"
        problem = line_problem(expected[i], actual[j], exact)
        if problem:
            return problem
        i += 1
        j += 1
    if j < len(actual):
        return f"unexpected extra output from {actual[j]!r}"
    return None


def line_problem(expected: str, actual: str, exact: bool = False) -> str | None:
    """Compare one line: text exactly (``...`` = anything), numbers within tolerance."""
    pattern, numbers = "", []
    position = 0
    for token in re.finditer(r"\.\.\.|" + NUMBER.pattern, expected):
        pattern += re.escape(expected[position:token.start()])
        if token.group(0) == "...":
            pattern += ".*?"
        else:
            pattern += f"({NUMBER.pattern})"
            numbers.append(token.group(0))
        position = token.end()
    pattern += re.escape(expected[position:])
    found = re.fullmatch(pattern, actual)
    if found is None:
        return f"line differs:\n  page:   {expected}\n  actual: {actual}"
    for written, got in zip(numbers, found.groups(), strict=True):
        if (written != got) if exact else not _close(written, got):
            return f"number {written} on the page, {got} now:\n  page:   {expected}\n  actual: {actual}"
    return None


def _close(written: str, got: str) -> bool:
    a, b = float(written.replace(",", "").replace("_", "")), float(got.replace(",", "").replace("_", ""))
    decimals = len(written.split(".")[1]) if "." in written else 0
    return abs(a - b) <= max(0.10 * abs(a), 10 ** -decimals)


def _run_python(source: str, namespace: dict, where: str) -> None:
    previous = Path.cwd()
    os.chdir(namespace["scratch"])
    try:
        exec(compile(source, where, "exec"), namespace)  # noqa: S102 - the page's own example
    finally:
        os.chdir(previous)


def _run_install_line(source: str, namespace: dict, where: str) -> None:
    # CI runs the README's test command; it only adds --quiet to pip.
    ci_command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1].replace(" --quiet", "")
    for line in source.strip().splitlines():
        parts = [part.strip() for part in line.split("&&")]
        assert parts[0] == "python3 -m venv .venv", f"{where}: an install line starts with the venv: {line}"
        if parts[-1].startswith(".venv/bin/pytest"):
            assert line == ci_command, f"{where}: the test command must be what .ci/run runs: {ci_command}"
            continue
        assert parts[-1].startswith(".venv/bin/bordersim "), f"{where}: unexpected command {parts[-1]}"
        command = "bordersim " + parts[-1][len(".venv/bin/bordersim "):]
        completed = run_command(command, namespace)
        assert completed.returncode == 0, f"{where}: `{command}` failed:\n{completed.stderr[-3000:]}"


if __name__ == "__main__":
    import tempfile

    for name in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as folder:
            print(f"{name}: {update_page(Path(name).resolve(), Path(folder))} outputs rewritten")
