"""The embedded cluster: private clusters driven through the real CLI, and its locks tried from outside.

As root (CI) the cluster belongs to `postgres`; on a laptop to the user. The tests that need a second OS
user (`nobody`, through runuser) or to plant folders owned by someone else run only as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import psycopg
import pytest

from sinkload.db.cluster import PASSWORD_FILE, Cluster, socket_port
from tests.support import cli_argv

AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="needs root (to act as another OS user)")


def _new_dir() -> Path:
    # Directly under /tmp: as root the cluster belongs to `postgres`, who must be able to reach it.
    return Path("/tmp") / f"sinkload-clustertest-{uuid.uuid4().hex[:8]}"


def _env(directory: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SINKLOAD_DATABASE_URL", "SINKLOAD_DB_PORT")}
    return {**env, "SINKLOAD_CLUSTER_DIR": str(directory), **extra}


def _db(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(cli_argv("db", *args), env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _secret_url(env: dict[str, str]) -> str:
    result = _db(env, "url", "--show-password")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def private_cluster_env():
    directory = _new_dir()
    env = _env(directory)
    yield env
    _db(env, "down")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def running_cluster():
    """One private cluster for the read-only checks of this module: (env, superuser URL with password)."""
    directory = _new_dir()
    env = _env(directory)
    up = _db(env, "up")
    assert up.returncode == 0, up.stderr
    yield env, _secret_url(env)
    _db(env, "down")
    shutil.rmtree(directory, ignore_errors=True)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", "@")).geturl()


def test_db_up_is_idempotent_and_down_stops_it(private_cluster_env):
    first = _db(private_cluster_env, "up")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("started")
    second = _db(private_cluster_env, "up")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("already running")

    url = _secret_url(private_cluster_env)
    password = urlsplit(url).password
    assert password and len(password) >= 32
    shown = _db(private_cluster_env, "url")
    assert password not in first.stdout + second.stdout + shown.stdout + shown.stderr
    assert shown.stdout.strip() in second.stdout and ":***@" in shown.stdout
    assert "--show-password" in shown.stderr
    with psycopg.connect(url) as conn:
        extensions = {row[0] for row in conn.execute("select extname from pg_extension")}
    assert {"postgis", "postgis_raster"} <= extensions
    assert _db(private_cluster_env, "status").returncode == 0

    down = _db(private_cluster_env, "down")
    assert down.stdout.strip() == "stopped"
    assert _db(private_cluster_env, "status").returncode == 3
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3)
    assert _db(private_cluster_env, "down").stdout.strip() == "not running"


def test_two_cluster_directories_get_different_sockets(tmp_path):
    assert socket_port(tmp_path / "a") != socket_port(tmp_path / "b")


def test_folders_and_files_are_private(running_cluster):
    env, _ = running_cluster
    directory = Path(env["SINKLOAD_CLUSTER_DIR"])
    owner = os.stat(directory).st_uid
    for path, mode in ((directory, 0o700), (directory / "run", 0o700), (directory / "pgdata", 0o700),
                       (directory / PASSWORD_FILE, 0o600)):
        st = os.lstat(path)
        assert stat.S_IMODE(st.st_mode) == mode, path
        assert st.st_uid == owner, path
    sockets = list((directory / "run").glob(".s.PGSQL.*[0-9]"))
    assert sockets and all(stat.S_IMODE(os.lstat(s).st_mode) & 0o077 == 0 for s in sockets)
    assert owner == (pwd_uid("postgres") if AS_ROOT else os.geteuid())


def pwd_uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid


def test_no_trust_anywhere_and_socket_only(running_cluster):
    _, url = running_cluster
    with psycopg.connect(url) as conn:
        methods = {row[0] for row in conn.execute("select auth_method from pg_hba_file_rules")}
        listen = conn.execute("show listen_addresses").fetchone()[0]
        sources = dict(conn.execute("select name, sourcefile from pg_settings where name in "
                                    "('listen_addresses', 'unix_socket_directories', 'port')").fetchall())
    assert methods == {"scram-sha-256"}
    assert listen == ""
    assert all(source.endswith("/postgresql.conf") for source in sources.values()), sources


@pytest.mark.fault
def test_superuser_without_or_with_a_wrong_password_is_refused(running_cluster):
    _, url = running_cluster
    parts = urlsplit(url)
    for bad in (_without_password(url), url.replace(f":{parts.password}@", ":@"),
                url.replace(f":{parts.password}@", ":wrong-password-1234@")):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(bad, connect_timeout=5)


@pytest.mark.fault
def test_alter_system_reset_all_does_not_open_tcp(private_cluster_env):
    assert _db(private_cluster_env, "up").returncode == 0
    url = _secret_url(private_cluster_env)
    port = urlsplit(url).query.split("port=")[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("alter system reset all")
        conn.execute("alter system set listen_addresses = '*'")
    assert _db(private_cluster_env, "down").returncode == 0
    assert _db(private_cluster_env, "up").returncode == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == ""
    assert not _tcp_listeners(int(port))
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://sinkload@127.0.0.1:{port}/sinkload", connect_timeout=3)


def _tcp_listeners(port: int) -> set[str]:
    return {c.laddr.ip for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == port}


@pytest.mark.fault
def test_tcp_listener_is_opt_in_and_loopback_only(private_cluster_env):
    port = _free_port()
    up = _db(private_cluster_env, "up", "--port", str(port))
    assert up.returncode == 0, up.stderr
    assert f"127.0.0.1:{port}" in up.stdout
    url = _secret_url(private_cluster_env)
    password = urlsplit(url).password
    tcp = f"postgresql://sinkload:{password}@127.0.0.1:{port}/sinkload"
    with psycopg.connect(tcp, autocommit=True) as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
        conn.execute("alter system reset all")
    if AS_ROOT:
        assert _tcp_listeners(port) == {"127.0.0.1"}
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://sinkload@127.0.0.1:{port}/sinkload", connect_timeout=5)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://sinkload:not-the-password-99@127.0.0.1:{port}/sinkload", connect_timeout=5)

    # A restart keeps the listener (and only it) after the ALTER SYSTEM RESET ALL; --port 0 closes it.
    assert _db(private_cluster_env, "down").returncode == 0
    assert _db(private_cluster_env, "up").returncode == 0
    with psycopg.connect(tcp) as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
    closed = _db(private_cluster_env, "up", "--port", "0")
    assert closed.returncode == 0, closed.stderr
    assert not _tcp_listeners(port)
    with psycopg.connect(_secret_url(private_cluster_env)) as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == ""


@pytest.mark.bad_input
@pytest.mark.parametrize(("option", "setting"), [("80", None), ("70000", None), (None, "abc"), (None, "99999")])
def test_bad_tcp_port_is_one_line(private_cluster_env, option, setting):
    env = {**private_cluster_env, **({"SINKLOAD_DB_PORT": setting} if setting else {})}
    result = _db(env, "up", *(["--port", option] if option else []))
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert not Path(private_cluster_env["SINKLOAD_CLUSTER_DIR"]).exists()


def _tree(path: Path) -> list[tuple[str, int, int, int]]:
    """(relative path, uid, gid, mode) of everything under `path`, symlinks not followed."""
    entries = []
    for root, dirs, files in os.walk(path):
        for name in [".", *dirs, *files]:
            full = Path(root) / name
            st = os.lstat(full)
            entries.append((str(full.relative_to(path)), st.st_uid, st.st_gid, st.st_mode))
    return sorted(entries)


@pytest.fixture()
def planted():
    """A cluster path under /tmp and a folder of `nobody` elsewhere; both removed afterwards."""
    directory = _new_dir()
    target = Path("/tmp") / f"sinkload-target-{uuid.uuid4().hex[:8]}"
    yield directory, target
    for path in (directory, target):
        if path.is_symlink():
            path.unlink()
        shutil.rmtree(path, ignore_errors=True)


def _plant_as_nobody(path: Path) -> None:
    (path / "run").mkdir(parents=True)
    for sub in (path, path / "run"):
        os.chown(sub, pwd_uid("nobody"), -1)
        os.chmod(sub, 0o777)


@needs_root
@pytest.mark.fault
def test_a_run_folder_planted_by_another_user_is_refused_and_not_chowned(planted):
    directory, _ = planted
    _plant_as_nobody(directory)
    before = _tree(directory)
    result = _db(_env(directory), "up")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(directory) in lines[0] and "nobody" in lines[0], result.stderr
    assert _tree(directory) == before
    assert not (directory / "pgdata").exists()


@needs_root
@pytest.mark.fault
def test_a_symlink_at_the_cluster_path_is_refused_and_its_target_untouched(planted):
    directory, target = planted
    _plant_as_nobody(target)
    directory.symlink_to(target)
    before = _tree(target)
    result = _db(_env(directory), "up")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "symlink" in result.stderr, result.stderr
    assert _tree(target) == before
    assert directory.is_symlink()


@pytest.mark.fault
def test_a_symlink_at_the_socket_folder_is_refused(private_cluster_env, planted):
    _, target = planted
    target.mkdir()
    directory = Path(private_cluster_env["SINKLOAD_CLUSTER_DIR"])
    assert _db(private_cluster_env, "up").returncode == 0
    assert _db(private_cluster_env, "down").returncode == 0
    run = directory / "run"
    shutil.rmtree(run)
    run.symlink_to(target)
    before = _tree(target)
    result = _db(private_cluster_env, "up")
    assert result.returncode == 1 and "symlink" in result.stderr, result.stderr
    assert _tree(target) == before


@pytest.mark.bad_input
def test_a_foreign_folder_is_not_adopted():
    directory = _new_dir()
    try:
        directory.mkdir()
        (directory / "notes.txt").write_text("mine")
        if AS_ROOT:
            os.chown(directory, pwd_uid("postgres"), -1)
        result = _db(_env(directory), "up")
        assert result.returncode == 1 and "not a sinkload cluster folder" in result.stderr, result.stderr
        assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@needs_root
@pytest.mark.fault
def test_another_os_user_cannot_reach_the_socket_or_the_password(running_cluster):
    env, url = running_cluster
    directory = Path(env["SINKLOAD_CLUSTER_DIR"])
    as_nobody = ["runuser", "-u", "nobody", "--"]
    psql = subprocess.run([*as_nobody, "psql", "-w", url, "-c", "select 1"], capture_output=True, text=True,
                          timeout=30, check=False)
    assert psql.returncode != 0 and "Permission denied" in psql.stderr, psql.stderr
    cat = subprocess.run([*as_nobody, "cat", str(directory / PASSWORD_FILE)], capture_output=True, text=True,
                         timeout=30, check=False)
    assert cat.returncode != 0 and not cat.stdout


@needs_root
@pytest.mark.fault
def test_another_os_user_needs_a_password_over_tcp(private_cluster_env):
    port = _free_port()
    assert _db(private_cluster_env, "up", "--port", str(port)).returncode == 0
    user, password = f"bi_{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    with psycopg.connect(_secret_url(private_cluster_env), autocommit=True) as conn:
        conn.execute(f"create role {user} login password '{password}'")
    as_nobody = ["runuser", "-u", "nobody", "--", "env", "HOME=/nonexistent"]
    base = ["psql", "-w", "-h", "127.0.0.1", "-p", str(port), "-d", "sinkload", "-Atc", "select current_user"]
    refused = subprocess.run([*as_nobody, *base, "-U", "sinkload"], capture_output=True, text=True, timeout=30,
                             check=False)
    assert refused.returncode != 0 and "password" in refused.stderr, refused.stderr
    accepted = subprocess.run([*as_nobody, f"PGPASSWORD={password}", *base, "-U", user], capture_output=True,
                              text=True, timeout=30, check=False)
    assert accepted.returncode == 0 and accepted.stdout.strip() == user, accepted.stderr


def test_a_cluster_from_before_passwords_is_upgraded_in_place(private_cluster_env):
    """A cluster written by the old code (trust, listener in postgresql.auto.conf, no password file):
    `db up` gives the superuser a password, removes trust and moves the listener into postgresql.conf."""
    directory = Path(private_cluster_env["SINKLOAD_CLUSTER_DIR"])
    assert _db(private_cluster_env, "up").returncode == 0
    assert _db(private_cluster_env, "down").returncode == 0
    data = directory / "pgdata"
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    conf = (data / "postgresql.conf").read_text()
    (data / "postgresql.conf").write_text(conf.split("# --- sinkload")[0])
    (data / "postgresql.auto.conf").write_text(
        f"listen_addresses = ''\nunix_socket_directories = '{directory / 'run'}'\nport = {socket_port(directory)}\n")
    (directory / PASSWORD_FILE).unlink()
    os.chmod(directory / "run", 0o755)

    up = _db(private_cluster_env, "up")
    assert up.returncode == 0, up.stderr
    url = _secret_url(private_cluster_env)
    assert urlsplit(url).password
    with psycopg.connect(url) as conn:
        assert {row[0] for row in conn.execute("select auth_method from pg_hba_file_rules")} == {"scram-sha-256"}
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(_without_password(url), connect_timeout=5)
    assert "listen_addresses" not in (data / "postgresql.auto.conf").read_text()
    assert stat.S_IMODE(os.stat(directory / "run").st_mode) == 0o700


def test_cluster_object_reports_the_configured_port(running_cluster):
    env, url = running_cluster
    cluster = Cluster.at(Path(env["SINKLOAD_CLUSTER_DIR"]))
    assert cluster.tcp_port is None
    assert f"port={cluster.port}" in url and cluster.port == socket_port(cluster.directory)
