#!/bin/sh
# Web container start: create or update the database roles and database (as the postgres
# superuser), migrate as the owner role, then run the command (gunicorn) as the runtime role only.
# Worker and beat wait for web to be healthy, so they never see a half-migrated database, and only
# one container ever migrates.
set -eu
cd "$(dirname "$0")/.."

if [ -n "${DATABASE_ADMIN_URL:-}" ]; then
  echo "entrypoint: creating the database roles and database (db_bootstrap)"
  python manage.py db_bootstrap
else
  echo "entrypoint: DATABASE_ADMIN_URL not set; assuming the roles and database already exist"
fi

echo "entrypoint: migrate (as the owner role, DATABASE_OWNER_URL)"
python manage.py migrate --noinput

# Least privilege: the superuser and owner URLs are needed only above, never by the serving process,
# which connects as the runtime role (DATABASE_URL) that owns nothing.
unset DATABASE_ADMIN_URL DATABASE_OWNER_URL
exec "$@"
