"""Command line: `python -m rnncourse {build,grade} ...`."""
from __future__ import annotations

import argparse
import sys

from rnncourse import build, config


def parse_assignments(names: list[str]) -> list[str]:
    known = config.assignments()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(f"unknown assignment(s) {', '.join(unknown)}; expected some of: {', '.join(known)}")
    return names or known


def run_build(args: argparse.Namespace) -> int:
    assignments = parse_assignments(args.assignments)
    if args.check:
        problems = build.out_of_sync(assignments)
        for problem in problems:
            print(problem)
        if problems:
            print("Generated files are out of sync with source/: run `python -m rnncourse build`.")
            return 1
        print(f"In sync with source/: {', '.join(assignments)}")
        return 0
    files = build.build(assignments)
    build.write(files)
    for path in files:
        print(f"wrote {build.shown(path)}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m rnncourse", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    build_cmd = commands.add_parser(
        "build", help="regenerate notebooks/, solutions/ and the README's table from source/"
    )
    build_cmd.add_argument("assignments", nargs="*", help="default: every assignment in source/")
    build_cmd.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if the committed files differ from a fresh build",
    )
    build_cmd.set_defaults(run=run_build)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
