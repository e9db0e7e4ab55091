"""make_hostile.py - writes hostile inputs for tests/reliability/hostile.sh.

usage: python3 make_hostile.py DIR

Writes into DIR scenario files that are malformed in every way a reader can
meet (each JSON syntax error class, wrong types, numbers an integer field
must refuse, deep nesting, duplicate keys, binary garbage, invalid UTF-8,
NUL bytes, empty and oversized files) and special files (a directory, a
FIFO with no writer, a symbolic link loop, a dangling link), plus one valid
file as the control, and DIR/manifest.tsv: one line per input,

    NAME <tab> EXPECT <tab> WHAT

EXPECT is `valid` (readable: exit 0 or 1 from the commands that judge),
`positioned` (exit 2 and an error "NAME:LINE:COL:" on stderr), `error`
(exit 2 and an error naming the file), or `strict-number` (positioned,
for the integer fields' strict numbers, which scenarios/json_read.c is
being changed to enforce: hostile.sh reports them without failing until
then). Nothing here runs asyncfuzz.
"""
import json
import os
import random
import sys

VALID = {
    "asyncfuzz": 1,
    "description": "a valid control file",
    "expect": [],
    "main": {"name": "main", "body": [{"op": "sleep", "ticks": 1}]},
}


def scenario_text(**changes):
    d = json.loads(json.dumps(VALID))
    d.update(changes)
    return json.dumps(d, indent=1)


def with_ticks(literal):
    """The valid file with the sleep's ticks written as `literal`."""
    return json.dumps(VALID, indent=1).replace('"ticks": 1', '"ticks": ' + literal)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = []

    def put(name, data, expect, what):
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        manifest.append((name, expect, what))

    put("valid.json", json.dumps(VALID, indent=1), "valid", "the control: a valid scenario")

    # -- JSON syntax, one file per error class --
    syntax = {
        "empty": ("", "an empty file"),
        "blank": ("  \n\t\n", "whitespace only"),
        "eof-object": ('{"asyncfuzz": 1, "main": {', "the text ends inside an object"),
        "eof-string": ('{"asyncfuzz": 1, "description": "unterminated', "unterminated string"),
        "trailing-comma": (scenario_text()[:-2] + ",\n}", "a trailing comma"),
        "missing-colon": ('{"asyncfuzz" 1}', "a missing colon"),
        "missing-comma": ('{"asyncfuzz": 1 "expect": []}', "a missing comma"),
        "single-quotes": ("{'asyncfuzz': 1}", "single-quoted strings"),
        "bad-escape": ('{"asyncfuzz": 1, "description": "bad \\q escape"}', "an unknown escape"),
        "short-unicode": ('{"asyncfuzz": 1, "description": "\\u12"}', "a short \\u escape"),
        "lone-surrogate": ('{"asyncfuzz": 1, "description": "\\ud800"}', "a lone surrogate"),
        "raw-control": ('{"asyncfuzz": 1, "description": "tab\there"}', "a raw control character"),
        "bare-word": ('{"asyncfuzz": tru}', "a bare word"),
        "leading-zero": ('{"asyncfuzz": 01}', "a number with a leading zero"),
        "dot-number": ('{"asyncfuzz": 1.}', "a number ending in a dot"),
        "plus-number": ('{"asyncfuzz": +1}', "a number with a plus sign"),
        "lone-minus": ('{"asyncfuzz": -}', "a minus sign alone"),
        "exponent-only": ('{"asyncfuzz": 1e}', "an exponent without digits"),
        "nan": ('{"asyncfuzz": NaN}', "NaN"),
        "infinity": ('{"asyncfuzz": Infinity}', "Infinity"),
        "comment": ("// a comment\n" + scenario_text(), "a comment"),
        "extra-data": (scenario_text() + "\n{}", "a second value after the object"),
        "top-array": ("[]", "an array at the top"),
        "top-string": ('"asyncfuzz"', "a string at the top"),
        "top-null": ("null", "null at the top"),
        "deep-array": ("[" * 100000, "100000 nested arrays"),
        "deep-object": ('{"a":' * 50000 + "1" + "}" * 50000, "50000 nested objects"),
        "nul-byte": (scenario_text().replace("a valid", "a\0valid"), "a NUL byte in a string"),
    }
    for name, (text, what) in syntax.items():
        put("syntax-%s.json" % name, text, "positioned", what)
    put("syntax-bad-utf8.json", b'{"asyncfuzz": 1, "description": "\xff\xfe bad"}', "positioned",
        "invalid UTF-8 in a string")
    put("syntax-bom.json", b"\xef\xbb\xbf" + scenario_text().encode(), "positioned",
        "a byte order mark before the object")
    rnd = random.Random(14)
    put("garbage.json", bytes(rnd.randrange(256) for _ in range(4096)), "positioned",
        "4 KiB of random bytes")

    # -- wrong types and structure --
    types = {
        "version-string": (scenario_text(asyncfuzz="1"), "the version as a string"),
        "version-2": (scenario_text(asyncfuzz=2), "an unsupported version"),
        "expect-object": (scenario_text(expect={}), "expect as an object"),
        "main-array": (scenario_text(main=[]), "main as an array"),
        "body-null": (scenario_text(main={"name": "main", "body": None}), "a null body"),
        "ticks-string": (with_ticks('"1"'), "ticks as a string"),
        "ticks-bool": (with_ticks("true"), "ticks as a boolean"),
        "ticks-array": (with_ticks("[1]"), "ticks as an array"),
        "ticks-negative": (with_ticks("-1"), "negative ticks"),
        "ticks-huge": (with_ticks("99999999999999999999999"), "ticks past every integer"),
        "ticks-overflow": (with_ticks("1e400"), "ticks past every double"),
        "ticks-fraction": (with_ticks("1.5"), "ticks with a fraction"),
        "duplicate-key": (scenario_text().replace('"expect": []', '"expect": [], "expect": []'),
                          "a key twice"),
        "unknown-field": (scenario_text(colour="red"), "an unknown field"),
        "unknown-op": (scenario_text(main={"name": "main", "body": [{"op": "teleport"}]}),
                       "an unknown operation"),
        "long-name": (scenario_text(main={"name": "m" * 10000, "body": []}), "a 10000-byte name"),
        "too-many-ops": (scenario_text(main={"name": "main",
                                             "body": [{"op": "sleep", "ticks": 0}] * 5000}),
                         "5000 operations"),
        "too-deep-ops": (scenario_text(main={"name": "main", "body": [
            json.loads('{"op": "timeout", "delay": null, "body": [' * 30 + "]}" * 30)]}),
            "operations nested 30 deep"),
        "oversized": (scenario_text(description="x" * (2 << 20)), "a 2 MiB file"),
    }
    for name, (text, what) in types.items():
        put("type-%s.json" % name, text, "positioned" if name != "oversized" else "error", what)

    # -- numbers an integer field must refuse (strict numbers) --
    strict = {
        "tiny-exponent": ("1e-400", "1e-400 (rounds to 0)"),
        "near-integer": ("10000.0000000000001", "10000.0000000000001 (rounds to 10000)"),
        "exponent": ("1e3", "1e3 (an integer written with an exponent)"),
        "zero-fraction": ("1.0", "1.0"),
    }
    for name, (literal, what) in strict.items():
        put("number-%s.json" % name, with_ticks(literal), "strict-number", what)

    # -- special files --
    os.mkdir(os.path.join(out, "special-directory.json"))
    manifest.append(("special-directory.json", "error", "a directory"))
    os.mkfifo(os.path.join(out, "special-fifo.json"))
    manifest.append(("special-fifo.json", "error", "a FIFO with no writer"))
    os.symlink("special-loop-b.json", os.path.join(out, "special-loop-a.json"))
    os.symlink("special-loop-a.json", os.path.join(out, "special-loop-b.json"))
    manifest.append(("special-loop-a.json", "error", "a symbolic link loop"))
    os.symlink("no-such-file.json", os.path.join(out, "special-dangling.json"))
    manifest.append(("special-dangling.json", "error", "a dangling symbolic link"))

    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        for row in manifest:
            f.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
