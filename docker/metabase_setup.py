"""One-shot `metabase-setup` service: give Metabase its first admin and connect it to the
warehouse's `marts` schema as `bi_reader` (SPEC 6, 8). Idempotent: when Metabase is already
set up it logs in and adds the database only if it is missing.

Standard library only; runs in the Lumbung image. Configuration from the environment:
MB_URL, MB_ADMIN_EMAIL, MB_ADMIN_PASSWORD, WAREHOUSE_HOST, WAREHOUSE_PORT, WAREHOUSE_DB,
BI_READER_PASSWORD.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

DATABASE_NAME = "Lumbung marts"


def call(method: str, path: str, body: dict | None = None, session: str | None = None):
    request = urllib.request.Request(
        os.environ["MB_URL"].rstrip("/") + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"X-Metabase-Session": session} if session else {})})
    with urllib.request.urlopen(request, timeout=30) as reply:
        text = reply.read().decode() or "null"
    return json.loads(text)


def warehouse() -> dict:
    return {
        "engine": "postgres",
        "name": DATABASE_NAME,
        "details": {
            "host": os.environ.get("WAREHOUSE_HOST", "warehouse"),
            "port": int(os.environ.get("WAREHOUSE_PORT", "5432")),
            "dbname": os.environ.get("WAREHOUSE_DB", "lumbung"),
            "user": "bi_reader",
            "password": os.environ["BI_READER_PASSWORD"],
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "marts",
            "ssl": False,
        },
    }


def main() -> int:
    for _ in range(120):  # Metabase takes a minute or two to start
        try:
            if call("GET", "/api/health").get("status") == "ok":
                break
        except (OSError, urllib.error.URLError, ValueError):
            pass
        time.sleep(5)
    else:
        print("metabase-setup: Metabase did not become healthy.", file=sys.stderr)
        return 1
    admin = {"email": os.environ["MB_ADMIN_EMAIL"], "password": os.environ["MB_ADMIN_PASSWORD"]}
    token = call("GET", "/api/session/properties").get("setup-token")
    if token and not call("GET", "/api/session/properties").get("has-user-setup"):
        call("POST", "/api/setup", {
            "token": token,
            "user": {**admin, "first_name": "Lumbung", "last_name": "Admin",
                     "site_name": "Lumbung"},
            "prefs": {"site_name": "Lumbung", "allow_tracking": False},
            "database": warehouse(),
        })
        print(f"metabase-setup: Metabase set up with {DATABASE_NAME} (marts, as bi_reader).")
        return 0
    session = call("POST", "/api/session", {"username": admin["email"],
                                            "password": admin["password"]})["id"]
    listed = call("GET", "/api/database", session=session)
    names = {d["name"] for d in (listed.get("data", listed) if isinstance(listed, dict)
                                 else listed)}
    if DATABASE_NAME not in names:
        call("POST", "/api/database", warehouse(), session=session)
        print(f"metabase-setup: added {DATABASE_NAME} (marts, as bi_reader).")
    else:
        print(f"metabase-setup: {DATABASE_NAME} is already connected.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
