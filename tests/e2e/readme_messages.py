"""Checks that the messages README.md's "Troubleshooting" section quotes are
printed by the tools: every line of its fenced code blocks must match a line
of PRINTED (what the end-to-end test captured), where "…" in the README stands
for a part that varies (a path, a port, a key id, a time).

    python3 tests/e2e/readme_messages.py README.md PRINTED

Prints each quoted line not found, then a count; exits 1 when any is missing
or the section quotes nothing."""
import re
import sys


def quoted(readme):
    text = open(readme, encoding="utf-8").read()
    start = text.find("\n## Troubleshooting")
    if start < 0:
        return []
    end = text.find("\n## ", start + 1)
    section = text[start:end if end > 0 else len(text)]
    lines, inside = [], False
    for line in section.split("\n"):
        if line.startswith("```"):
            inside = not inside
            continue
        if inside and line.strip():
            lines.append(line.strip())
    return lines


def main():
    want = quoted(sys.argv[1])
    printed = open(sys.argv[2], encoding="utf-8", errors="replace").read().split("\n")
    missing = 0
    for line in want:
        pattern = ".*".join(re.escape(part) for part in line.split("…"))
        if not any(re.search(pattern, p) for p in printed):
            print("not printed: " + line)
            missing += 1
    print("%d quoted, %d not printed" % (len(want), missing))
    sys.exit(1 if missing or not want else 0)


main()
