#!/usr/bin/env python3
"""Prints every numeric constant of the public header, "NAME VALUE" sorted by name: the
object-like VMO_* macros and the enumerators of its enums, evaluated by the C compiler.
scripts/check-abi.sh compares this list with abi/constants.txt (values are ABI: status
codes, flags, enum values, limits). VMO_VERSION_MINOR/PATCH/VERSION change with every
release and are left out; VMO_VERSION_MAJOR is the SONAME and stays in.

usage: abi-constants.py HEADER [CC]"""
import os
import re
import subprocess
import sys
import tempfile

SKIP = {"VMO_API", "VMO_VERSION", "VMO_VERSION_MINOR", "VMO_VERSION_PATCH"}


def main():
    header = os.path.abspath(sys.argv[1])
    cc = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CC", "cc")
    incdir = os.path.dirname(os.path.dirname(header))
    include = os.path.relpath(header, incdir)
    macros = subprocess.run([cc, "-dM", "-E", "-I", incdir, "-x", "c", "-"],
                            input=f"#include <{include}>\n", capture_output=True, text=True,
                            check=True).stdout
    names = set()
    for m in re.finditer(r"^#define (VMO_[A-Z0-9_]+) (.+)$", macros, re.M):
        names.add(m.group(1))  # object-like only: function-like macros have "NAME(" here
    text = re.sub(r"/\*.*?\*/", "", open(header).read(), flags=re.S)
    for body in re.findall(r"\benum\b[^{;]*\{([^}]*)\}", text):
        names.update(re.findall(r"\b(VMO_[A-Z0-9_]+)\b\s*(?:=|,|$)", body.strip() + ","))
    names = sorted(n for n in names if n not in SKIP)
    program = f"#include <stdio.h>\n#include <{include}>\nint main(void)\n{{\n"
    for n in names:
        program += f'    printf("%s %lld\\n", "{n}", (long long)({n}));\n'
    program += "    return 0;\n}\n"
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "c.c"), os.path.join(tmp, "c")
        open(src, "w").write(program)
        subprocess.run([cc, "-std=c11", "-I", incdir, "-o", exe, src], check=True)
        sys.stdout.write(subprocess.run([exe], capture_output=True, text=True,
                                        check=True).stdout)


if __name__ == "__main__":
    main()
