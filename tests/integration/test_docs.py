"""docs/api.md's shell examples, run as written against a server started the
way `make run` starts one: migrated, seeded by `manage.py seeddemo`, the
settings' own defaults (DEBUG on, the default rate limit). The ```sh blocks
run in order in one bash (`set -euo pipefail`), with the doc's
`http://127.0.0.1:8000` replaced by this server's address on 127.0.0.1.

Under each command that prints, the doc says what it prints:

    # → 201 {"duplicate", "message": {"seq", "body", ...}}

the HTTP status (the last line of the command's output, from `curl -w`),
then the keys of the JSON before it: `{"a", "b"}` an object with exactly
these keys, `"a": {...}` the shape of what `a` holds, and `[{...}, {...}]`
a list whose every item has one of the shapes, and which holds one of each.
A comment line starting with `#` continues the shape while its brackets are
open. The test fails when a status or a key drifts from what the doc says.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import missing_service
from tests.harness.deployment import ROOT, Deployment

DOC = ROOT / "docs" / "api.md"
DOC_BASE = "http://127.0.0.1:8000"  # the address of `make run` in the doc
# Printed after each described command, to cut the output into its answers.
MARKER = "@@ end of a docs/api.md example @@"

EXPECTED = re.compile(r"^# → (?P<status>\d{3})\b(?P<shape>.*)$")
FENCE = re.compile(r"^```(?P<lang>\S*)\s*$")
SHAPE_TOKEN = re.compile(r'\s*(?:(?P<key>"(?:[^"\\]|\\.)*")|(?P<punct>[{}\[\],:]))')

# An object's shape: its keys, each with the shape of its value or None (any
# value); a list's: the shapes its items may have.
Shape = dict | list


@dataclass
class Example:
    line: int  # of its `# →` line in the doc
    status: int
    shape: Shape | None  # None: no body


# --- Reading the doc ----------------------------------------------------------


def fenced_blocks(text: str, lang: str) -> list[tuple[int, list[str]]]:
    """The ```lang blocks of a Markdown text, in order: (the line number of
    their first line, their lines)."""
    blocks, current, start, inside = [], [], 0, None
    for number, line in enumerate(text.splitlines(), 1):
        fence = FENCE.match(line)
        if fence and inside is None:
            inside, current, start = fence["lang"], [], number + 1
        elif fence and not fence["lang"]:
            if inside == lang:
                blocks.append((start, current))
            inside = None
        elif inside is not None:
            current.append(line)
    return blocks


def doc_script(text: str, *, base: str, python: str) -> tuple[str, list[Example]]:
    """The doc's ```sh blocks as one bash script for the server at `base`
    (and `.venv/bin/python` as `python`), printing MARKER after each
    described command; and what each of those should print."""
    script, examples = ["set -euo pipefail"], []
    for start, lines in fenced_blocks(text, "sh"):
        index = 0
        while index < len(lines):
            line = lines[index]
            script.append(line)
            index += 1
            expected = EXPECTED.match(line)
            if expected is None:
                continue
            number, shape = start + index - 1, expected["shape"]
            while _depth(shape) > 0 and index < len(lines) and lines[index].startswith("#"):
                shape += " " + lines[index][1:].strip()
                script.append(lines[index])
                index += 1
            try:
                parsed = parse_shape(shape)
            except ValueError as error:
                raise AssertionError(f"docs/api.md:{number}: {error}") from None
            examples.append(Example(number, int(expected["status"]), parsed))
            script.append(f"printf '%s\\n' {shlex.quote(MARKER)}")
    joined = "\n".join(script).replace(DOC_BASE, base) + "\n"
    return re.sub(r"\.venv/bin/python\b", lambda _: python, joined), examples


def _depth(shape: str) -> int:
    return sum(shape.count(c) for c in "{[") - sum(shape.count(c) for c in "}]")


def parse_shape(text: str) -> Shape | None:
    """`{"a", "b": {"c"}, "d": [{"e"}, {"f"}]}` as a Shape; None when empty."""
    text, tokens, position = text.strip(), [], 0
    while position < len(text):
        token = SHAPE_TOKEN.match(text, position)
        if token is None:
            raise ValueError(f"cannot read the shape {text!r} at {text[position:]!r}")
        # A key is a 1-tuple, so that a key named "{" is not a bracket.
        tokens.append((json.loads(token["key"]),) if token["key"] else token["punct"])
        position = token.end()
    if not tokens:
        return None
    shape, rest = _shape(tokens, text)
    if rest:
        raise ValueError(f"unexpected {rest[0]!r} after the shape {text!r}")
    return shape


def _shape(tokens: list, text: str) -> tuple[Shape, list]:
    """The shape at the start of `tokens`, and the tokens after it."""
    head, rest = tokens[0], tokens[1:]
    closing = {"{": "}", "[": "]"}.get(head) if isinstance(head, str) else None
    if closing is None:
        raise ValueError(f"a shape starts with {{ or [: {text!r}")
    keys, items = {}, []
    while rest and rest[0] != closing:
        if head == "[":
            item, rest = _shape(rest, text)
            items.append(item)
        elif isinstance(rest[0], tuple):
            key, rest = rest[0][0], rest[1:]
            keys[key] = None
            if rest[:1] == [":"]:
                keys[key], rest = _shape(rest[1:], text)
        else:
            raise ValueError(f"expected a key, not {rest[0]!r}, in the shape {text!r}")
        if rest[:1] == [","]:
            rest = rest[1:]
        elif rest[:1] != [closing]:
            raise ValueError(f"expected , or {closing} in the shape {text!r}")
    if not rest:
        raise ValueError(f"unclosed {head} in the shape {text!r}")
    if head == "[" and not items:
        raise ValueError(f"a list's shape names at least one item's: {text!r}")
    return (items if head == "[" else keys), rest[1:]


# --- Checking an answer -------------------------------------------------------


def shape_errors(value, shape: Shape, where: str = "") -> list[str]:
    """How `value` differs from `shape`; empty when it fits."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where or 'the answer'}: {value!r} is not an object"]
        errors = []
        if value.keys() != shape.keys():
            errors.append(
                f"{where or 'the answer'} has the keys {sorted(value)}, the doc says "
                f"{sorted(shape)} (missing: {sorted(shape.keys() - value.keys())}, "
                f"not in the doc: {sorted(value.keys() - shape.keys())})"
            )
        for key, inner in shape.items():
            if inner is not None and key in value:
                errors += shape_errors(value[key], inner, f"{where}.{key}")
        return errors
    if not isinstance(value, list):
        return [f"{where}: {value!r} is not a list"]
    errors, seen = [], set()
    for index, item in enumerate(value):
        fits = {n for n, alternative in enumerate(shape) if not shape_errors(item, alternative)}
        if not fits:
            keys = sorted(item) if isinstance(item, dict) else item
            errors.append(f"{where}[{index}] ({keys}) has none of the doc's shapes")
        seen |= fits
    for missing in sorted(set(range(len(shape))) - seen):
        errors.append(f"{where}: no item has the doc's shape {sorted(shape[missing])}")
    return errors


def answer_errors(output: str, example: Example) -> list[str]:
    """How one command's output (its JSON, then its status line) differs
    from what the doc says of it."""
    body, _, status = output.rstrip("\n").rpartition("\n")
    if status != str(example.status):
        return [f"status {status!r}, the doc says {example.status}; it printed {body[:500]!r}"]
    if example.shape is None:
        return [] if not body else [f"printed {body[:500]!r}, the doc says nothing"]
    try:
        value = json.loads(body)
    except ValueError:
        return [f"printed {body[:500]!r}, not one JSON value"]
    return shape_errors(value, example.shape)


def make_run_environment(deployment: Deployment) -> None:
    """`make run` sets nothing: drop the harness's settings (DEBUG off, no
    rate limit, ...) so the settings' defaults apply; only the database is
    this test's."""
    for key in [key for key in deployment.env if key.startswith(("DJANGO_", "ROOMS_"))]:
        del deployment.env[key]


# --- The tests ----------------------------------------------------------------


@pytest.mark.integration
def test_every_api_example_prints_the_status_and_keys_the_doc_says(tmp_path: Path):
    for tool in ("bash", "curl", "python3"):
        if shutil.which(tool) is None:
            missing_service(f"{tool} is not installed: docs/api.md's examples use it")
    text = DOC.read_text()
    for _, lines in fenced_blocks(text, "sh"):
        targets = set(re.findall(r"[a-z]+://[^\s\"'/]+", "\n".join(lines)))
        assert targets <= {DOC_BASE}, f"docs/api.md's examples must target make run: {targets}"
    deployment = Deployment(tmp_path / "site")
    try:
        make_run_environment(deployment)
        deployment.manage("seeddemo")
        worker = deployment.start_worker()
        script, examples = doc_script(
            text, base=worker.http_url, python=shlex.quote(sys.executable)
        )
        path = tmp_path / "api-examples.sh"
        path.write_text(script)
        env = {
            key: value
            for key, value in deployment.env.items()
            if key.lower() not in ("http_proxy", "https_proxy", "all_proxy", "base", "token", "seq")
        }
        result = subprocess.run(
            ["bash", str(path)],
            cwd=ROOT,
            env={**env, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert deployment.tracebacks() == [], worker.log()[-3000:]
    finally:
        deployment.stop()
    assert result.returncode == 0, (
        f"{path} exited {result.returncode}: {result.stderr[-2000:]}\n"
        f"after printing: {result.stdout[-2000:]}"
    )
    assert examples, "docs/api.md describes no example's answer"
    *outputs, after_last = result.stdout.split(MARKER + "\n")
    assert after_last == "", f"output after the last described example: {after_last[:500]!r}"
    assert len(outputs) == len(examples), f"{len(outputs)} answers for {len(examples)} examples"
    errors = [
        f"docs/api.md:{example.line}: {error}"
        for example, output in zip(examples, outputs, strict=True)
        for error in answer_errors(output, example)
    ]
    assert errors == [], "\n".join(errors)


def test_the_api_docs_json_samples_are_json():
    for start, lines in fenced_blocks(DOC.read_text(), "json"):
        try:
            json.loads("\n".join(lines))
        except ValueError as error:
            pytest.fail(f"docs/api.md:{start}: {error}")


def test_a_drifted_status_or_key_fails_the_check():
    shape = parse_shape('{"duplicate", "message": {"seq", "body"}}')
    example = Example(1, 201, shape)
    assert (
        answer_errors('{"duplicate":false,"message":{"seq":1,"body":"hi"}}\n201\n', example) == []
    )
    assert answer_errors('{"duplicate":true,"message":{"seq":1,"body":"hi"}}\n200\n', example)
    assert answer_errors('{"duplicate":false,"message":{"seq":1}}\n201\n', example)
    assert answer_errors('{"duplicate":false,"message":{"seq":1,"body":"","x":0}}\n201\n', example)


def test_a_list_shape_needs_every_item_to_fit_and_every_shape_seen():
    shape = parse_shape('{"messages": [{"seq", "body"}, {"seq", "target"}]}')
    both = {"messages": [{"seq": 1, "body": ""}, {"seq": 2, "target": 1}]}
    assert shape_errors(both, shape) == []
    assert shape_errors({"messages": [{"seq": 1, "body": ""}]}, shape)
    assert shape_errors({"messages": [*both["messages"], {"seq": 3}]}, shape)


def test_the_doc_script_targets_the_given_server_and_describes_each_answer():
    text = (
        "```sh\nBASE=http://127.0.0.1:8000\n"
        'curl -s -w "\\n%{http_code}\\n" "$BASE/api/rooms/"\n'
        '# → 200 {"rooms": [\n#     {"slug"}]}\n```\n'
    )
    script, examples = doc_script(text, base="http://127.0.0.1:5555", python="python")
    assert "BASE=http://127.0.0.1:5555" in script and "8000" not in script
    assert script.rstrip().endswith(shlex.quote(MARKER))
    assert examples == [Example(4, 200, {"rooms": [{"slug": None}]})]
