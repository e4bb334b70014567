#!/bin/sh
# The function's handler in the zip + layer deployment: with AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap
# and Handler: run.sh, the layer's bootstrap execs this script from the function's code
# ($LAMBDA_TASK_ROOT). It starts the app in the foreground; /opt/extensions/lambda-adapter
# (started by Lambda from the same layer) forwards every invocation to it on $AWS_LWA_PORT.
set -e
cd "$(dirname "$0")"
exec python3 app.py
