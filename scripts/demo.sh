#!/usr/bin/env bash
# Builds everything and serves the app on the bundled demo: prints the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
port=${PORT:-8080}
echo
echo "Brain-ResNet is served at http://localhost:$port/  (press the \"Run the demo\" button; Ctrl-C stops)"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory dist
