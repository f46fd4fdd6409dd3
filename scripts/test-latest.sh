#!/usr/bin/env bash
# The suite in a throw-away venv holding the newest releases that pyproject.toml's ranges allow (not
# uv.lock's), after a list of what differs from the lock. Usage: test-latest.sh UV [PYTEST ARGS...]
set -euo pipefail
uv="$(realpath "$1")"; shift
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
venv="$scratch/venv"
"$uv" venv --quiet --python "${PYTHON:-python3}" "$venv"
# llama-cpp-python builds from source with CMAKE_ARGS (from the Makefile), never from uv's cache.
"$uv" pip install --quiet --python "$venv/bin/python" --resolution highest \
  --no-binary llama-cpp-python --refresh-package llama-cpp-python -e '.[test]'
"$uv" pip freeze --python "$venv/bin/python" --exclude-editable > "$scratch/latest.txt"
"$venv/bin/python" - "$scratch/latest.txt" <<'PY'
import re
import sys
import tomllib

def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

locked: dict[str, set[str]] = {}
for package in tomllib.load(open("uv.lock", "rb"))["package"]:
    locked.setdefault(norm(package["name"]), set()).add(package["version"])
latest = dict(norm(line.split("==")[0]) and (norm(line.split("==")[0]), line.split("==")[1].strip())
              for line in open(sys.argv[1]) if "==" in line)
changed = [(n, " | ".join(sorted(locked[n])), v) for n, v in sorted(latest.items()) if n in locked and v not in locked[n]]
added = [(n, v) for n, v in sorted(latest.items()) if n not in locked]
print(f"test-latest: {len(changed)} packages newer than uv.lock, {len(added)} not in it")
for name, old, new in changed:
    print(f"  {name}: {old} -> {new}")
for name, new in added:
    print(f"  {name}: (not locked) {new}")
PY
status=0
"$venv/bin/ruff" check interviewer tests bench || status=1
"$venv/bin/mypy" || status=1
bash scripts/offline-pytest.sh "$venv/bin/python" -m pytest "$@" || status=1
exit $status
