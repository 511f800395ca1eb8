#!/usr/bin/env bash
# One login role and one database per Gonghui service, owned by that role; the role may
# connect to its own database only. Run by the postgres image on first start (mounted into
# /docker-entrypoint-initdb.d/); idempotent, so it can be run again for a new service on an
# existing volume:
#   docker-compose exec -u postgres postgres /docker-entrypoint-initdb.d/10-gonghui.sh
#
# Environment: GONGHUI_SERVICES (space-separated service names), <SERVICE>_DB_PASSWORD for
# each, POSTGRES_USER (default postgres). Standard libpq variables (PGHOST, PGPORT, ...) apply.
set -Eeo pipefail

if [ -z "${GONGHUI_SERVICES:-}" ]; then
    echo "init-databases: GONGHUI_SERVICES is not set (e.g. \"organization deeds\")" >&2
    exit 1
fi

for service in $GONGHUI_SERVICES; do
    if ! [[ "$service" =~ ^[a-z][a-z0-9_]*$ ]]; then
        echo "init-databases: invalid service name '$service'" >&2
        exit 1
    fi
    variable="${service^^}_DB_PASSWORD"
    password="${!variable:-}"
    if [ -z "$password" ]; then
        echo "init-databases: $variable is not set" >&2
        exit 1
    fi
    # psql variables are quoted by psql itself (:'x' literal, %I identifier): no injection
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-postgres}" \
        --dbname postgres -v role="$service" -v db="gonghui_$service" -v password="$password" \
        >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'role', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SELECT format('GRANT ALL ON DATABASE %I TO %I', :'db', :'role') \gexec
SQL
    echo "init-databases: role $service, database gonghui_$service ready"
done
