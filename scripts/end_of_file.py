"""pre-commit hook: every text file ends with exactly one newline (fixes the files it names)."""

import sys
from pathlib import Path


def main(paths: list[str]) -> int:
    changed = 0
    for name in paths:
        path = Path(name)
        data = path.read_bytes()
        if not data:
            continue
        fixed = data.rstrip(b"\r\n") + b"\n"
        if fixed != data:
            path.write_bytes(fixed)
            print(f"fixed end of file: {name}")
            changed += 1
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
