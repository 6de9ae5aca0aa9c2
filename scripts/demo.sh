#!/usr/bin/env bash
# The whole a2c workflow on the bundled sample applications, on this machine, with no AWS account:
# set up Docker and a local JRE base image, start the real sample servers (Tomcat 10 serving
# hello.war, a Spring Boot jar), then inventory -> analyze -> containerize (built, run, probed)
# -> generate app-deployment (CloudFormation, linted) for each of them; the same for a .NET Core
# app on a real .NET runtime; and an IIS site from a Windows host snapshot up to its Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
python3 -m pip install -q -e '.[test]'

export A2C_WORKSPACE="${A2C_WORKSPACE:-$HOME/a2c-demo}"
export A2C_CONFIG="${A2C_CONFIG:-$A2C_WORKSPACE/.a2c-config.json}"
base_image="${A2C_DEMO_BASE_IMAGE:-a2c-test/jre17:latest}"

python3 scripts/samples.py start >/dev/null
echo "Sample servers are running (python3 scripts/samples.py stop ends them)."

a2c init --defaults --workspace-dir "$A2C_WORKSPACE" --region us-east-1
a2c inventory
ids=$(a2c --json inventory | python3 -c '
import json, sys
state = json.load(open("/tmp/a2c-samples/state.json"))
pids = {svc["pid"] for svc in state.values()}
print(" ".join(k for k, v in json.load(sys.stdin).items() if v["processId"] in pids))')

for id in $ids; do
  echo; echo "=== $id"
  a2c analyze --application-id "$id"
  # The public eclipse-temurin image cannot be pulled here; use the local JRE image built by setup.sh.
  a2c containerize --application-id "$id" --base-image "$base_image"
  a2c generate app-deployment --application-id "$id"
  cfn-lint "$A2C_WORKSPACE/$id/EcsDeployment/ecs-master.yml" && echo "✔ cfn-lint: no errors"
done

# A .NET Core 3.1 app under the real runtime from PyPI's dotnetcore2, on a loopback port.
runtime=$(python3 -c 'import dotnetcore2, os; print(os.path.join(os.path.dirname(dotnetcore2.__file__), "bin"))')
dotnet_app=$(mktemp -d /tmp/a2c-demo-dotnet.XXXXXX)
DOTNET_ROOT="$runtime" bash fixtures/samples/dotnet-hello/build.sh "$dotnet_app" >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$dotnet_app" && ASPNETCORE_URLS="http://127.0.0.1:$port" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
    exec "$runtime/dotnet" HelloApp.dll >/dev/null 2>&1) &
dotnet_pid=$!
trap 'kill $dotnet_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
dotnet_id=$(a2c --json inventory --type dotnet | python3 -c "
import json, sys
print(next(k for k, v in json.load(sys.stdin).items() if v['processId'] == $dotnet_pid))")
echo; echo "=== $dotnet_id (.NET Core)"
a2c analyze --application-id "$dotnet_id"
a2c containerize --application-id "$dotnet_id" --base-image "${A2C_DEMO_DOTNET_IMAGE:-a2c-test/dotnet-runtime:3.1}"
a2c generate app-deployment --application-id "$dotnet_id"

# IIS sites from a Windows host snapshot: analyzed here, built on a Windows container host.
snapshot=fixtures/snapshots/iis-host
site=$(a2c --json inventory --type iis --snapshot "$snapshot" | python3 -c "
import json, sys
print(next(k for k, v in json.load(sys.stdin).items() if v['siteName'] == 'Default Web Site'))")
echo; echo "=== $site (IIS site, from a snapshot)"
a2c analyze --application-id "$site" --snapshot "$snapshot"
a2c containerize --application-id "$site" --snapshot "$snapshot" --artifacts-only

echo
echo "Done. Everything a2c wrote is under $A2C_WORKSPACE:"
find "$A2C_WORKSPACE" -maxdepth 3 -not -path '*/log*' -not -path '*/Artifacts/*/*' -type f | sort | sed "s|^$A2C_WORKSPACE/|  |"
