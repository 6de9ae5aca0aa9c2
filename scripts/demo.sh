#!/usr/bin/env bash
# The whole a2c workflow on the bundled sample applications, on this machine, with no AWS account:
# set up Docker and a local JRE base image, start the real sample servers (Tomcat 10 serving
# hello.war, a Spring Boot jar), then inventory -> analyze -> containerize (built, run, probed)
# -> generate app-deployment (CloudFormation, linted) for each of them.
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

echo
echo "Done. Everything a2c wrote is under $A2C_WORKSPACE:"
find "$A2C_WORKSPACE" -maxdepth 3 -not -path '*/log*' -type f | sort | sed "s|^$A2C_WORKSPACE/|  |"
