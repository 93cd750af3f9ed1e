#!/bin/bash
# Runs once, after the InfluxDB 2.x container's initial setup (docker-entrypoint-initdb.d).
# Maps the gaitmon bucket to an InfluxQL database + retention policy of the same name, so
# Grafana (InfluxQL data source) and `gaitmon store ...` can query it with InfluxQL.
set -euo pipefail
bucket="${DOCKER_INFLUXDB_INIT_BUCKET:?}"
org="${DOCKER_INFLUXDB_INIT_ORG:?}"
bucket_id=$(influx bucket list --org "$org" --name "$bucket" --hide-headers | awk '{print $1}')
influx v1 dbrp create --org "$org" --bucket-id "$bucket_id" --db "$bucket" --rp autogen --default
echo "gaitmon: DBRP mapping ${bucket}/autogen -> bucket ${bucket} (${bucket_id}) created"
