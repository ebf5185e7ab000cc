#!/bin/bash
# The platform's starter: its names for notebooks/lake.py, and the starter notebooks (never over a
# file the user already has). Runs at every JupyterLab start.
set -euo pipefail
cat > {platform_file} <<'JSON'
{platform}
JSON
python3 - <<'PY' || echo "starter files not copied; the app starts without them" >&2
import io, os, zipfile
import boto3
target = os.path.expanduser("{starter_folder}")
body = boto3.client("s3", region_name="{region}").get_object(Bucket="{bucket}", Key="{key}")["Body"].read()
with zipfile.ZipFile(io.BytesIO(body)) as archive:
    for member in archive.namelist():
        path = os.path.join(target, member)
        if not member.endswith("/") and not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(archive.read(member))
PY
