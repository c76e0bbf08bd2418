#!/bin/sh
# Web container start: create the app's database role (as the postgres superuser), migrate as the
# app role, then run the command (gunicorn). Worker and beat wait for web to be healthy, so they
# never see a half-migrated database, and only one container ever migrates.
set -eu
cd "$(dirname "$0")/.."

if [ -n "${DATABASE_ADMIN_URL:-}" ]; then
  echo "entrypoint: creating the app database role and database (db_bootstrap)"
  python manage.py db_bootstrap
else
  echo "entrypoint: DATABASE_ADMIN_URL not set; assuming the app role and database already exist"
fi

echo "entrypoint: migrate"
python manage.py migrate --noinput

# Least privilege: the superuser URL is needed only above, never by the serving process.
unset DATABASE_ADMIN_URL
exec "$@"
