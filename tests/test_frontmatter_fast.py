"""The fast path for simple front matter gives exactly what the YAML loader gives (issue 5).

Locally, with many more examples: FRONTMATTER_EXAMPLES=20000 pytest tests/test_frontmatter_fast.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from persona_site.frontmatter_strict import HANDLER as _HANDLER
from persona_site.frontmatter_strict import load as _load
from persona_site.frontmatter_yaml import _BOUNDARY, _split, try_load, split_front_matter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = os.environ.get("FRONTMATTER_EXAMPLES")
# The CI profile's count, or FRONTMATTER_EXAMPLES for a long local run.
many = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                **({"max_examples": int(EXAMPLES)} if EXAMPLES else {}))


def outcome(text: str, *, fast: bool):
    """What split_front_matter gives, in a form that compares order too, or the error it raises."""
    try:
        fm = split_front_matter(text, fast=fast)
    except Exception as exc:  # noqa: BLE001 - the same error, whatever it is
        return type(exc).__name__, str(exc), getattr(exc, "line", None)
    return fm, repr(fm.meta), repr(fm.key_lines)


def assert_agree(text: str) -> bool:
    """Both ways give the same; when try_load answers, it is the loader's answer. True if it did."""
    slow = outcome(text, fast=False)
    assert outcome(text, fast=True) == slow
    try:
        parts = _HANDLER.split(text.removeprefix("\ufeff")) if _HANDLER.detect(text.removeprefix("\ufeff")) else None
    except ValueError:
        parts = "not closed"
    try:
        assert _split(text.removeprefix("\ufeff")) == parts
    except ValueError:
        assert parts == "not closed"
    if not isinstance(parts, tuple):
        return False
    fm_text = parts[0]
    fast = try_load(fm_text)
    if fast is None:
        return False
    assert not isinstance(slow[0], str), f"the fast path answered where the loader raised {slow}"
    loaded = _load(fm_text)  # lines counted from the front matter's first line, as try_load counts them
    assert (fast[0], repr(fast[0]), fast[1], repr(fast[1])) == (slow[0].meta, slow[1], loaded[1], repr(loaded[1]))
    return True


# --- A grammar of front matter lines: the subset, and near misses of every rule ------------------

# Each list: texts in the subset first, then near misses of its rules.
KEYS = ["title", "date", "company", "call_type", "participants", "recording", "Dana Whitfield", "Siobhán O'Neill",
        "a.b", "a", "b", "x y", "k2", "nul", "nullx", "~x", "yes", "no", "1", "0x1", "2025-01-01", "<<", "=",
        "..x", "x...", "a!b", "a&b", "a*b", "a'b", 'a"b', "a-b", "a?b", "a|b", "a>b", "a%b", "a@b", "a`b", "é",
        "😀", "x" * 200, "Null x", "~ x"]
BAD_KEYS = ["null", "Null", "NULL", "~", "...", "-x", "-", "?x", "?", ":x", "#x", "a#b", "a #b", "a:b", "a,b", "[x]",
            "x]", "{x}", "x}", "'q'", '"q"', "&a", "*a", "!t", "!!str", "|", ">", "%x", "@x", "`x", "k ", " k",
            "k\tx", "k\\x", "\u00a0k", "k\u00a0", "k\u2028x", "\ufeffk", "k\x85", "k\x7f", "x" * 201, "x" * 1100]
PLAINS = ["Acme call", "2025-01-01", "vp-sales", "https://rec.example.com/calls/x?t=1#frag", "Head of FP&A",
          "VP Sales, EMEA", "a:b", "a :b", "a#b", "C#", "null", "Null", "NULL", "~", "nul", "nulls", "yes", "No",
          "1.10", "0o17", "=", "<<", "a  b", "a ", "a[b]{c}", "a]", "a}", "it's", 'say "hi"', "é", "😀 x", "..",
          "...", "a --- b", "x" * 300, '""', "''", '" a "', "' b '", '"a # b"', "'a: b'", '"{x}"', '"it\'s"',
          "'say \"x\"'", "a-", "a?", "a!", "a&b", "a*", "a|", "a>", "a%", "a@", "a`", "~x", "a,", "a ,b"]
BAD_PLAINS = ["a: b", "a:", "a::", "a #b", "x #", "a\t", "-", "-1", "- a", "?", "? a", ":", ": a", "#", "# c", "&a",
              "*a", "!t", "!!str x", "|", ">", "%x", "@x", "`x", "[a, b]", "[a", "{a", "'q'x", "'a''b'",
              '"a\\"b"', '"a\\nb"', '"\\ud83d\\ude00"', '"\\ud800"', "a\\b", "\u00a0", "x\u00a0", "\u3000x",
              "x\u2028y", "x\u2029", "x\x85y", "\ufeffx", "x\x00", "x\x1b", "\udc80", "a\rb", "---", '"x" y',
              "'x' #c", '"x"#', '"unclosed', "'unclosed", "a:\tb"]
FLOW_KEYS = ["role", "title", "EMEA", "a", "x y", "a.b", "é", "nullx", "a-b"]
BAD_FLOW_KEYS = ["k'", "null", "~", "Null", "'k'", '"k"', "-k", "?k", "&k", "k:", "k#", "k[", "#k"]
FLOW_VALUES = ["vp-sales", "VP Sales", '"Head of FP&A"', '"VP Sales, EMEA"', "'CFO'", '""', "''", "null", "~",
               "O'Neill", 'say "x"', "é", "x.y", '"a: b # c, {d}"', "'x, y'", "nul", "x-"]
BAD_FLOW_VALUES = ["-x", "a:b", "a: b", "a#b", "#x", "[x]", "{x}", "'it''s'", '"a\\"b"', "", " ", "x\u00a0", "?x", "&x",
                   "*x", "!x", "|x", ">x", "%x", "@x", "`x", "x]"]


def pick(draw, noise: int, good: list, bad: list):
    """From `bad` one time in 100/noise, else from `good`."""
    return draw(st.sampled_from(bad if draw(st.integers(0, 99)) < noise else good))


def unique(draw, noise: int, used: set, key: str) -> str:
    """key, or key and a number when it is taken (but, one time in 100/noise, written twice)."""
    if key in used and draw(st.integers(0, 99)) >= noise:
        key = f"{key} {len(used)}"
    used.add(key)
    return key


@st.composite
def flow_mappings(draw, noise: int) -> str:
    entries: list[str] = []
    used: set[str] = set()
    for _ in range(draw(st.integers(1 if noise < 20 else 0, 6))):  # past three: _FLOW_ITEMS
        key = unique(draw, noise, used, pick(draw, noise, FLOW_KEYS, BAD_FLOW_KEYS))
        if draw(st.integers(0, 3)) == 0:
            entries.append(key)
        else:
            sep = pick(draw, noise, [": ", ":  "], [":", " : ", ":\t"])
            entries.append(key + sep + pick(draw, noise, FLOW_VALUES, BAD_FLOW_VALUES))
    inner = pick(draw, noise, [", ", ",", " , ", ",  "], [" ,", ",,"]).join(entries)
    pad = draw(st.sampled_from(["", " ", "  "]))
    opening, closing = pick(draw, noise, [("{", "}")], [("{", ""), ("{", "},"), ("{", "}}"), ("{{", "}}"),
                                                       ("{", "} x"), ("{", ", }"), ("{", "} #c")])
    return opening + pad + inner + pad + closing


@st.composite
def values(draw, noise: int) -> str:
    kind = draw(st.integers(0, 9))
    if kind < 5:
        return pick(draw, noise, PLAINS, BAD_PLAINS)
    if kind < 8:
        return draw(flow_mappings(noise))
    if kind == 8 and noise:
        return draw(st.one_of(st.text(st.characters(codec="utf-8"), max_size=6),
                              st.text(alphabet="ab :#'\"{},[]-?~\\\t", max_size=8)))
    return ""


@st.composite
def lines(draw, noise: int, used: set) -> str:
    """One `key: value` line, or (noise permitting) anything a front matter might hold."""
    if draw(st.integers(0, 99)) < noise // 2:
        return draw(st.sampled_from(["", " ", "   ", "\t", "# comment", "  # c", "- a", "  - b", "...", "... x",
                                     "---x", "--- x", "%YAML 1.2", "? k", ": v", "\ufeff", "\u2028", "\x85",
                                     "just text", "  continued", "    deeper: x", "[a, b]", "{a: b}", "&x k: v", "*x",
                                     "<<: *x", "k: &a v", "k: *a", "k: !t v", "k: |", "k: >", "k: [a, b]"]))
    key = pick(draw, noise, KEYS, BAD_KEYS)
    if draw(st.integers(0, 99)) < noise // 2:
        key = draw(st.text(alphabet="ab :#.~-'\"", min_size=1, max_size=4))
    key = unique(draw, noise, used, key)
    sep = pick(draw, noise, [": ", ": ", ":  "], [":", " : ", ":\t"])
    value = draw(values(noise))
    return key + (sep + value if value or draw(st.booleans()) else ":") + pick(draw, noise, ["", " ", "  "],
                                                                                   ["\t", " # c", "#c", "\r"])


@st.composite
def documents(draw) -> str:
    """Front matter of top-level lines and blocks of indented ones; noise 0 keeps to the subset
    (mostly: the lists above are the author's guess), higher noise mixes in more near misses."""
    noise = draw(st.sampled_from([0, 0, 2, 5, 20, 50]))
    body = []
    used: set[str] = set()
    for _ in range(draw(st.integers(0, 8))):
        if not draw(st.integers(0, 2)):
            body.append(draw(lines(noise, used)))
            continue
        key = unique(draw, noise, used, pick(draw, noise, KEYS, BAD_KEYS))
        body.append(key + ":" + draw(st.sampled_from(["", " ", "  "])))
        indent = pick(draw, noise, ["  ", "  ", " ", "    "], ["\t", " \t"])
        in_block: set[str] = set()
        for _ in range(draw(st.integers(0, 4))):
            line = draw(lines(noise, in_block))
            body.append(line if line.startswith((" ", "\t")) else indent + line)
            if draw(st.integers(0, 5)) == 0:  # a blank line, or a line at another indentation
                body.append(draw(st.sampled_from(["", " ", " " * len(indent), pick(draw, noise, [""], [
                    " " + line, indent + " " + line, indent[1:] + line, indent + "  deeper: x", indent + "  more"])])))
    opening = pick(draw, noise, ["---\n", "---\n", "--- \n", "----\n", "---\n\n", "\ufeff---\n", "---\n \n"],
                   ["---\r\n", "---\u00a0\n", "---\u2028\n"])
    closing = pick(draw, noise // 5, ["---\n", "--- \n", "----\n", "---\n\n"], ["", "...\n", "--- x\n"])
    rest = draw(st.sampled_from(["", "", "Body.\n", "\nBody\n---\nmore\n", "\n\n**Dana:** hi\n"]))
    if not rest and closing.endswith("\n") and draw(st.booleans()):
        closing = closing[:-1]  # the file ends on the closing line
    return opening + "".join(line + "\n" for line in body) + closing + rest


@many
@given(documents())
@example("---\ntitle: x\nparticipants:\n  Dana: {role: vp-sales, title: VP Sales, EMEA}\n---\n")
def test_fast_path_agrees_with_the_loader(text):
    event("fast path" if assert_agree(text) else "loader")


@many
@given(st.sampled_from([0, 5, 50]).flatmap(lambda noise: st.lists(lines(noise, set()), max_size=8))
       .map(lambda ls: "---\n" + "".join(line + "\n" for line in ls) + "---\nbody\n"))
def test_random_lines_agree(text):
    event("fast path" if assert_agree(text) else "loader")


# --- Near misses found while writing it: each one once took (or could take) the wrong path ---------

@pytest.mark.parametrize("fm", [
    "title: x\n",
    "participants:\n  Dana: {role: vp-sales, title: VP Sales, EMEA}\n",  # EMEA is a key with no value
    "participants:\n  Dana: {role: vp-sales, title: \"VP Sales, EMEA\"}\n",
    "a: {x: 1}\na.x: 2\n",  # key_lines keep the first line of 'a.x'
    "a.x: 2\na: {x: 1}\n",
    "a:\n  b: 1\na.b: 2\n",
    "a: null\nb: ~\nc: NULL\nd:\ne: Null\nf: nul\ng: ''\nh: \"\"\n",
    "a:\n  b:\n  c: d\n",  # an empty nested value is null
    "a:\nb: c\n",  # an empty top-level value before another key is null
    "a:\n\n  b: c\n\n  d: e\n\nf: g\n",  # blank lines inside a block
    "a:\n   \n  b: c\n",  # a line of spaces inside a block
    "a: b \n",  # trailing spaces
    "a:    b\n",
    "a: b\n  c\n",  # a plain scalar on two lines
    "a: \"b\"\n  c: d\n",
    "a:\n  b: c\n   d: e\n",  # a deeper line
    "a:\n  b: c\n d: e\n",  # a shallower line
    "a:\n  b: c\n    d\n",
    "a: b: c\n", "a: b:\n", "a: b #c\n", "a: b#c\n", "a: #c\n", "a: \"b\" #c\n", "a: 'b'c\n",
    "null: x\n", "~: x\n", "a:\n  NULL: x\n", "a: {null: x}\n", "a: {~}\n", "a: {Null}\n", "a: {nullx: 1}\n",
    "a: b\na: c\n", "a:\n  b: 1\n  b: 2\n", "a: {b: 1, b: 2}\n",
    "a: {b: 1,}\n", "a: {}\n", "a: { }\n", "a: {b}\n", "a: {b: }\n", "a: {b:c}\n", "a: {b: c:d}\n",
    "a: {b: c} \n", "a: {b: c}x\n", "a: {b: 'c, d'}\n", "a: {b: \"c\", d: 'e'}\n", "a: {'b': c}\n",
    "a: {b: it's}\n", "a: {b: O'Neill}\n", "a: it's\n", "Siobhán O'Neill: x\n",
    "... x: y\n", "...: y\n", "..x: y\n", "- a\n", "--- x\n",
    "<<: x\n", "=: x\n", "a: =\n", "a: <<\n", "yes: no\n", "1: 2\n",
    "a: \u00a0b\n", "a: b\u00a0\n", "a: x\u2028y\n", "a: x\x85y\n", "a: \ufeffx\n", "a: 😀\n", "😀: a\n",
    "a:\tb\n", "a: b\t\n", "\ta: b\n", "a: b\r\n", "a: b\\c\n", "a: \"b\\\"c\"\n",
    "a: x\n" + "k" * 200 + ": v\n", "a: x\n" + "k" * 1100 + ": v\n",
    "a::\n", "a:b:\n", "a::\n  x: 1\n", "a:: b: c\n", "a ::\n", "a: b ::\n", "a: x:y\n", "a: :x\n", "a: x :y\n",
    "a: {b: 1, c: 2, d: 3, e: 4, f: \"5, 6\", g}\n", "a: {b: 1, c: 2, d: 3, d: 4}\n", "a: {b, c, d, e: 'x, y'}\n",
    "a:\n  " + "k" * 1100 + ": v\n",
    "", "\n", "   \n", "# only a comment\n",
])
def test_near_misses_agree(fm):
    assert_agree(f"---\n{fm}---\nBody line.\n")


@pytest.mark.parametrize("text", [
    "---\n\ntitle: x\n---\n",  # a blank line after the opening '---' (the loader reports line 2 for title)
    "---\n  \ntitle: x\n---\n",
    "--- \ntitle: x\n---  \nbody\n",
    "----\ntitle: x\n-----\nbody\n",
    "---\ntitle: x\n----x\n---\n",
    "---\ntitle: x\n",  # not closed
    "---\ntitle: x\n--- x\n",
    "\ufeff---\ntitle: x\n---\n",
    "---\r\ntitle: x\r\n---\r\nbody\r\n",
    "no front matter\n---\n",
    "---\n---\n",
    "---\n",
    "---",
    "---\u00a0\ntitle: x\n---\u2028\nbody\n",
])
def test_splitting_agrees(text):
    assert_agree(text)


BOUNDARY_PIECES = ["-", "---", "----", "\n", "---\n", "\n---\n", " ", "\t", "\r", "\u00a0", "\u2028", "\x85", "\x1c",
                   "\x0c", "a", "a: b", ":"]


@many
@given(st.lists(st.sampled_from(BOUNDARY_PIECES), max_size=16).map("".join))
def test_split_finds_python_frontmatters_boundaries(text):
    try:
        expected = _HANDLER.split(text) if _HANDLER.detect(text) else None
    except ValueError:
        expected = "not closed"
    try:
        assert _split(text) == expected
    except ValueError:
        assert expected == "not closed"


def test_a_lone_surrogate_fails_the_same_way():
    # Not from a file (they are decoded strictly), but the same either way.
    assert_agree("---\na: \udc80\n---\n")


# --- The sample content ----------------------------------------------------------------------------

SAMPLE = sorted((ROOT / "content").rglob("*.md"))
LIST = re.compile(r"^ *- |: \[", re.MULTILINE)


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: p.name)
def test_sample_content_agrees(path):
    assert_agree(path.read_text("utf-8"))


def test_sample_content_takes_the_fast_path_unless_it_has_lists():
    taken = {p for p in SAMPLE if try_load(_split(p.read_text("utf-8"))[0]) is not None}
    with_lists = {p for p in SAMPLE if LIST.search(_split(p.read_text("utf-8"))[0])}
    assert taken == set(SAMPLE) - with_lists  # lists are outside the subset
    assert (len(taken), len(with_lists)) == (48, 5)  # every transcript; the five personas


def test_the_fast_split_finds_python_frontmatters_own_boundary():
    """_split keeps python-frontmatter's boundary pattern of its own, so that a build of plain front matter never
    imports python-frontmatter or PyYAML: the same pattern, whatever version is installed."""
    assert (_BOUNDARY.pattern, _BOUNDARY.flags) == (_HANDLER.FM_BOUNDARY.pattern, _HANDLER.FM_BOUNDARY.flags)
