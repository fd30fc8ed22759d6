#!/usr/bin/env bash
# Packs the built site (dist/) into brain-resnet-web-<version>.zip at the repository root
# (version from package.json): index.html at the top of the zip, ready to unpack into any
# static host's directory (docs/DEPLOY.md). `npm run build` runs scripts/build-web.sh, then this.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/index.html ] || { echo "dist/ is not built: run bash scripts/build-web.sh" >&2; exit 1; }
version=$(node -p 'require("./package.json").version')
zipfile="$PWD/brain-resnet-web-$version.zip"
rm -f "$zipfile"
if command -v zip >/dev/null; then
  (cd dist && zip -qrX "$zipfile" .)
else
  python3 - "$zipfile" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for top, dirs, files in os.walk("dist"):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(top, name)
            z.write(path, os.path.relpath(path, "dist"))
PY
fi
printf '== release: %s (%s), the contents of dist/\n' "${zipfile#"$PWD"/}" "$(du -h "$zipfile" | cut -f1)" >&2
