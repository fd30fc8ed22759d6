#!/usr/bin/env bash
# Builds everything and serves the app on the bundled demo: prints the URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
port=${PORT:-8080}
echo
echo "Brain-ResNet is served at http://localhost:$port/  (press the \"Run the demo\" button; Ctrl-C stops)"
# Sends the headers of dist/_headers (the Content-Security-Policy) with every file, workers included.
exec python3 scripts/serve.py dist "$port"
