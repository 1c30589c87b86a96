"""Import the bundle into a running Superset through its REST API, then refresh the datasets' columns.

Login (`/api/v1/security/login`, database provider), a CSRF token tied to the session cookie, the assets
import (`/api/v1/assets/import/`, which overwrites objects with the same UUIDs), then
`PUT /api/v1/dataset/<id>/refresh` for each dataset of the warehouse database.

The warehouse password travels inside the zip's database URI, which Superset encrypts with its SECRET_KEY
and masks. It is never sent as the import's `passwords` form field: Superset's action log writes the
request's form fields, that password included, in clear into its `logs` table.
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

from sinkload.errors import SinkloadError
from sinkload.superset.bundle import DATABASE_NAME

DATABASE_FILE = f"databases/{DATABASE_NAME}.yaml"


def split_password(sqlalchemy_uri: str) -> tuple[str, str | None]:
    """The URI without its password, and the password (None when it has none)."""
    parts = urlsplit(sqlalchemy_uri)
    if parts.password is None:
        return sqlalchemy_uri, None
    netloc = parts.netloc.replace(f":{parts.password}@", "@", 1)
    return urlunsplit(parts._replace(netloc=netloc)), parts.password


def with_password(sqlalchemy_uri: str, password: str) -> str:
    """user@host... -> user:PASSWORD@host... (percent-encoded)."""
    parts = urlsplit(sqlalchemy_uri)
    if parts.username is None:
        raise SinkloadError("the database URI names no user (the analyst login)")
    netloc = parts.netloc.replace(f"{parts.username}@", f"{parts.username}:{quote(password, safe='')}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def bundle_zip(bundle_dir: Path, sqlalchemy_uri: str) -> bytes:
    """The bundle directory as the zip Superset imports, with the database's URI (no password) put in."""
    if not (bundle_dir / "metadata.yaml").is_file():
        raise SinkloadError(f"{bundle_dir}: not a Superset bundle (no metadata.yaml)")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in bundle_dir.rglob("*.yaml") if p.is_file()):
            relative = path.relative_to(bundle_dir).as_posix()
            text = path.read_text(encoding="utf-8")
            if relative == DATABASE_FILE:
                database = yaml.safe_load(text)
                database["sqlalchemy_uri"] = sqlalchemy_uri
                text = yaml.safe_dump(database, sort_keys=False, allow_unicode=True)
            archive.writestr(f"bundle/{relative}", text)
    return buffer.getvalue()


@dataclass
class SupersetClient:
    """A logged-in session against one Superset (bearer token + session cookie + CSRF token)."""

    url: str
    opener: urllib.request.OpenerDirector
    token: str = ""
    csrf: str = ""

    @classmethod
    def login(cls, url: str, user: str, password: str) -> SupersetClient:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        client = cls(url.rstrip("/"), opener)
        body = {"username": user, "password": password, "provider": "db", "refresh": False}
        client.token = client.request("POST", "/api/v1/security/login", json_body=body)["access_token"]
        client.csrf = client.request("GET", "/api/v1/security/csrf_token/")["result"]
        return client

    def request(self, method: str, path: str, json_body: Any = None, data: bytes | None = None,
                content_type: str | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json", "Referer": self.url}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        if json_body is not None:
            data, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=300) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace").strip().replace("\n", " ")[:300]
            raise SinkloadError(f"{self.url}{path}: HTTP {exc.code}: {detail}") from None
        except urllib.error.URLError as exc:
            raise SinkloadError(f"{self.url}: cannot reach Superset: {exc.reason}") from None
        return json.loads(payload or b"{}")

    def import_bundle(self, archive: bytes) -> None:
        body, content_type = _multipart({"overwrite": "true"}, "bundle", "bundle.zip", archive)
        self.request("POST", "/api/v1/assets/import/", data=body, content_type=content_type)

    def warehouse_datasets(self) -> list[dict[str, Any]]:
        """Datasets (id, table_name) of the warehouse database."""
        query = quote("(columns:!(id,table_name,database.database_name),page_size:100)")
        result = self.request("GET", f"/api/v1/dataset/?q={query}")["result"]
        return [d for d in result if d.get("database", {}).get("database_name") == DATABASE_NAME]

    def refresh_dataset(self, dataset_id: int) -> None:
        self.request("PUT", f"/api/v1/dataset/{dataset_id}/refresh")


def _multipart(fields: dict[str, str], file_field: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
                 "Content-Type: application/zip\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def bootstrap(url: str, user: str, password: str, bundle_dir: Path, database_uri: str,
              database_password: str | None) -> list[str]:
    """Import the bundle with the warehouse at `database_uri`; returns the refreshed datasets' names."""
    uri, in_uri = split_password(database_uri)
    secret = database_password if database_password is not None else in_uri
    archive = bundle_zip(bundle_dir, with_password(uri, secret) if secret is not None else uri)
    client = SupersetClient.login(url, user, password)
    client.import_bundle(archive)
    refreshed = []
    for dataset in client.warehouse_datasets():
        client.refresh_dataset(dataset["id"])
        refreshed.append(dataset["table_name"])
    return sorted(refreshed)
