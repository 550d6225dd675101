"""Lines of code per package and the longest functions in forecast/ and strategies/.

    python bench/code_shape.py [--top N]

Counts non-blank, non-comment lines per package, then lists the N longest functions
(lines from `def` to the end of the body).
"""

import argparse
import ast
from collections import defaultdict
from pathlib import Path

ROOTS = ("forecast", "strategies")


def code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def package_of(path: Path) -> str:
    parts = path.with_suffix("").parts
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    per_package: dict[str, int] = defaultdict(int)
    functions = []
    for root in ROOTS:
        for path in sorted(Path(root).rglob("*.py")):
            text = path.read_text()
            per_package[package_of(path)] += code_lines(text)
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions.append((node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"))
    print(f"{'package':28s} {'lines':>6s}")
    for name, n in sorted(per_package.items()):
        print(f"{name:28s} {n:6d}")
    print(f"{'total':28s} {sum(per_package.values()):6d}")
    print(f"\nlongest {args.top} functions")
    for n, where in sorted(functions, reverse=True)[: args.top]:
        print(f"{n:5d}  {where}")


if __name__ == "__main__":
    main()
