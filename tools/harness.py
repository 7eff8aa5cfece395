#!/usr/bin/env python3
"""Developer harness: ``./run demo`` and ``./run test``.

Standard library only: it runs with the system ``python3`` before the
project's virtualenv exists.  It

* finds an existing Odoo 18.0 (``ODOO_PATH``, an importable ``odoo``, then the
  default places in ``ODOO_DEFAULT_PLACES``) and never downloads one;
* keeps a virtualenv in ``.venv/`` with Odoo's requirements and ours;
* runs an embedded PostgreSQL cluster in ``.pg/`` (unix socket only), unless
  ``PGHOST``/``PGPORT``/``PGUSER`` point at a server of the user's;
* ``test``: fresh database, installs the three add-ons with ``--test-enable``
  (at_install + post_install + tours), then serves that database with
  ``--workers=2`` and runs ``pytest tests/`` against it; then installs
  ``wechat_member`` alone and ``wechat_member`` + ``wechat_referral`` in fresh
  databases of their own and runs their tests (``STANDALONE_SETS``); prints one
  closing line ``N passed, N failed``;
* ``demo``: database with demo data, the fake WeChat platform as sandbox, Odoo
  on the printed URL until Ctrl-C.
"""

import argparse
import concurrent.futures
import contextlib
import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PGROOT = ROOT / ".pg"
RUNDIR = ROOT / ".run"
MODULES = ("wechat_member", "wechat_coupon", "wechat_referral")
TEST_DB = "wm_test"
# ./run test also installs these module sets alone, each in a fresh database of its own, and runs
# their tests: a module must work without the add-ons that do not depend on it.
STANDALONE_SETS = (("wechat_member",), ("wechat_member", "wechat_referral"))
# The browser tours ran in the main run (the install step); the standalone runs skip them to keep ./run test
# short (they would add ~10 minutes on two cores): the modules' other tests all run.
STANDALONE_SKIPPED_TOURS = (
    "-/wechat_member:TestPosMemberTour",
    "-/wechat_member:TestPosWeChatPayTour",
    "-/wechat_member:TestMemberPage.test_member_page_tour_on_a_phone",
)
DEMO_DB = "wm_demo"

# Where we look for Odoo 18.0 when neither ODOO_PATH nor an importable odoo
# is there.  Keep in sync with README.md.
ODOO_DEFAULT_PLACES = (
    "/opt/odoo18",
    "/opt/odoo",
    "~/odoo18",
    "~/odoo",
    str(ROOT.parent / "odoo18"),
    str(ROOT.parent / "odoo"),
)

HOW_TO_GET_ODOO = """\
Odoo 18.0 was not found.  This project runs on an existing Odoo 18.0 source
tree and never downloads one.  Get Odoo 18.0 Community, for example:

    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo /opt/odoo18

then either keep it at one of the default places
    {places}
or point ODOO_PATH at it:
    ODOO_PATH=/path/to/odoo ./run test

System packages needed to build its requirements (Debian/Ubuntu):
    apt-get install libpq-dev libldap2-dev libsasl2-dev"""


class HarnessError(Exception):
    """An error the user can act on; printed without a traceback."""


def say(msg):
    print(f"[run] {msg}", flush=True)


# ---------------------------------------------------------------- Odoo


class Odoo:
    def __init__(self, root, via):
        self.root = Path(root)  # directory that contains the `odoo` package
        self.via = via

    @property
    def odoo_bin(self):
        candidate = self.root / "odoo-bin"
        return candidate if candidate.exists() else None

    @property
    def addons_paths(self):
        paths = [self.root / "odoo" / "addons"]
        if (self.root / "addons").is_dir():
            paths.insert(0, self.root / "addons")
        return [str(p) for p in paths] + [str(ROOT)]

    @property
    def requirements(self):
        req = self.root / "requirements.txt"
        return req if req.exists() else None

    def command(self, python):
        if self.odoo_bin:
            return [python, str(self.odoo_bin)]
        return [python, "-m", "odoo"]


def odoo_major(root):
    release = Path(root) / "odoo" / "release.py"
    if not release.exists():
        return None
    match = re.search(r"^version_info\s*=\s*\((\d+)\s*,\s*(\d+)", release.read_text(), re.M)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_odoo():
    candidates = []
    if os.environ.get("ODOO_PATH"):
        candidates.append((os.environ["ODOO_PATH"], "ODOO_PATH"))
    else:
        probe = subprocess.run(
            [sys.executable, "-c", "import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip():
            candidates.append((probe.stdout.strip(), "importable odoo"))
        candidates += [(os.path.expanduser(p), "default place") for p in ODOO_DEFAULT_PLACES]
    for path, via in candidates:
        version = odoo_major(path)
        if version is None:
            if via == "ODOO_PATH":
                raise HarnessError(
                    f"ODOO_PATH={path} is not an Odoo source tree (no odoo/release.py).\n\n"
                    + HOW_TO_GET_ODOO.format(places="\n    ".join(ODOO_DEFAULT_PLACES))
                )
            continue
        if version != (18, 0):
            raise HarnessError(
                f"Odoo at {path} ({via}) is {version[0]}.{version[1]}, this suite needs 18.0.\n\n"
                + HOW_TO_GET_ODOO.format(places="\n    ".join(ODOO_DEFAULT_PLACES))
            )
        return Odoo(path, via)
    raise HarnessError(HOW_TO_GET_ODOO.format(places="\n    ".join(ODOO_DEFAULT_PLACES)))


# ---------------------------------------------------------------- virtualenv


# Odoo's pins that ours (setup.cfg) supersede: wechatpayv3 needs cryptography >= 35, and Odoo 18's
# pin for Python < 3.12 is 3.4.8; setup.cfg takes the versions Odoo 18 pins for Python 3.12 (Noble), with
# the urllib3 and idna that go with them.
SUPERSEDED_REQUIREMENTS = ("cryptography", "pyopenssl", "urllib3", "idna")


def odoo_requirements(path):
    """Odoo's requirements.txt without the lines of ``SUPERSEDED_REQUIREMENTS`` (a copy in ``.run/``)."""
    kept = []
    for line in path.read_text().splitlines():
        name = re.split(r"[\s=<>!~;\[]", line.strip(), maxsplit=1)[0].lower()
        if name not in SUPERSEDED_REQUIREMENTS:
            kept.append(line)
    out = RUNDIR / "requirements-odoo.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(kept) + "\n")
    return out


def ensure_venv(odoo):
    python = VENV / "bin" / "python"
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    if odoo.requirements:
        digest.update(odoo.requirements.read_bytes())
    digest.update((ROOT / "tools" / "pip-constraints.txt").read_bytes())
    digest.update(str(odoo.root).encode())
    # Our requirements. Not ROOT: git worktrees may share one virtualenv (they import their own fake, see
    # with_own_fake), and a stamp per checkout would reinstall it at each switch.
    digest.update((ROOT / "setup.cfg").read_bytes())
    stamp = VENV / ".wm-stamp"
    if python.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return str(python)
    say(f"setting up the virtualenv in {VENV} (once; a few minutes on a new machine)")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    env = dict(os.environ, PIP_CONSTRAINT=str(ROOT / "tools" / "pip-constraints.txt"))
    cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if odoo.requirements:
        cmd += ["-r", str(odoo_requirements(odoo.requirements))]
    # Our requirements (setup.cfg, with the test and lint extras) and, in editable mode, the fake WeChat
    # platform package (tests/fakewechat) that the modules' Odoo tests import.
    cmd += ["-e", f"{ROOT}[test,lint]"]
    log = RUNDIR / "logs" / "pip.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as fh:
        res = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if res.returncode:
        tail = "\n".join(log.read_text().splitlines()[-25:])
        raise HarnessError(
            f"installing Python requirements failed (full log: {log}):\n{tail}\n\n"
            "On Debian/Ubuntu the build needs: apt-get install libpq-dev libldap2-dev libsasl2-dev"
        )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Make `import odoo` work inside the venv (black-box tests and tools use it).
    Path(site, "odoo-path.pth").write_text(str(odoo.root) + "\n")
    stamp.write_text(digest.hexdigest())
    return str(python)


# ---------------------------------------------------------------- checks (the pre-commit config)

# The hooks of .pre-commit-config.yaml, run from the virtualenv: pre-commit's own hook download
# clones GitHub repositories, which a machine without that network cannot do.  The versions are
# the `lint` extra of setup.cfg; check_lint_versions() keeps both files on the same ones.
# (name, command, which files: "text" = every tracked text file, or a suffix, or None = none given)
LINT_CHECKS = (
    ("trailing-whitespace", ["trailing-whitespace-fixer"], "text"),
    ("end-of-file-fixer", ["end-of-file-fixer"], "text"),
    ("check-xml", ["check-xml"], ".xml"),
    ("check-merge-conflict", ["check-merge-conflict"], "text"),
    ("mixed-line-ending", ["mixed-line-ending", "--fix=lf"], "text"),
    ("fix-encoding-pragma", ["fix-encoding-pragma", "--remove"], ".py"),
    ("ruff", ["ruff", "check", "--no-fix", "."], None),
    ("ruff-format", ["ruff", "format", "--check", "."], None),
    ("oca-checks-odoo-module", ["oca-checks-odoo-module"], "__manifest__.py"),
    # po-pretty-format clears a msgstr equal to its msgid ("AppID", "ID", the demo's bilingual
    # names): tests/test_i18n.py counts those as translated, the .po files keep them.
    ("oca-checks-po", ["oca-checks-po", "--disable=po-pretty-format"], ".po"),
    ("pylint-odoo (mandatory)", ["pylint", "--rcfile=.pylintrc-mandatory", *MODULES], None),
)
LINT_EXCLUDE = re.compile(r"/static/lib/|^\.venv/|^\.pg/|^\.run/")
# setup.cfg's lint extra <-> the repository of each hook in .pre-commit-config.yaml
LINT_PINS = {
    "pre-commit-hooks": "https://github.com/pre-commit/pre-commit-hooks",
    "ruff": "https://github.com/astral-sh/ruff-pre-commit",
    "oca-odoo-pre-commit-hooks": "https://github.com/OCA/odoo-pre-commit-hooks",
    "pylint-odoo": "https://github.com/OCA/pylint-odoo",
}


def tracked_files():
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: what is on disk
        out = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return sorted(f for f in out if f and not LINT_EXCLUDE.search(f) and (ROOT / f).is_file())


def is_text(path):
    with open(ROOT / path, "rb") as fh:
        return b"\0" not in fh.read(8192)


def check_lint_versions():
    """Problems with the pins: each hook's rev in .pre-commit-config.yaml == the lint extra's version."""
    pins = dict(re.findall(r"^\s+([A-Za-z0-9_.-]+)==(\S+)\s*$", (ROOT / "setup.cfg").read_text(), re.M))
    revs = dict(re.findall(r"- repo: (\S+)\s+rev: v?(\S+)", (ROOT / ".pre-commit-config.yaml").read_text()))
    problems = []
    for package, repo in LINT_PINS.items():
        if pins.get(package) != revs.get(repo):
            problems.append(
                f"{package}: setup.cfg pins {pins.get(package)}, .pre-commit-config.yaml has {revs.get(repo)}"
            )
    return problems


def run_lint(python):
    """Run every check; a verdict like the test steps' (one check = one test)."""
    started = time.time()
    bindir = Path(python).parent
    files = tracked_files()
    verdict = {"tests": 0, "passed": 0, "bad": 0, "skipped": [], "failures": [], "seconds": 0}
    log_path = RUNDIR / "logs" / "lint.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    results = [("pins (setup.cfg = .pre-commit-config.yaml)", check_lint_versions())]
    res = subprocess.run(
        [python, str(ROOT / "tools" / "gen_readme.py"), "--check"], cwd=ROOT, capture_output=True, text=True
    )
    results.append(("README.rst from readme/*.md", [res.stdout.strip()] if res.returncode else []))
    for name, cmd, selector in LINT_CHECKS:
        if selector == "text":
            args = [f for f in files if is_text(f)]
        elif selector:
            args = [f for f in files if f.endswith(selector)]
        else:
            args = []
        exe = bindir / cmd[0]
        if not exe.exists():
            results.append((name, [f"{exe} is missing: the virtualenv lacks the lint extra of setup.cfg"]))
            continue
        res = subprocess.run(
            [str(exe), *cmd[1:], *args], cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1")
        )
        output = (res.stdout + res.stderr).strip()
        results.append((name, [output or f"exit code {res.returncode}"] if res.returncode else []))
    with open(log_path, "w") as log:
        for name, problems in results:
            verdict["tests"] += 1
            if problems:
                verdict["failures"].append(f"check {name}")
                log.write(f"== {name}: FAILED\n" + "\n".join(problems) + "\n")
                say(
                    f"    check {name}: FAILED\n"
                    + "\n".join("      " + line for p in problems for line in p.splitlines()[-30:])
                )
            else:
                verdict["passed"] += 1
                log.write(f"== {name}: ok\n")
    verdict["bad"] = len(verdict["failures"])
    verdict["seconds"] = time.time() - started
    return verdict


def cmd_lint(args):
    odoo = find_odoo()
    python = ensure_venv(odoo)
    verdict = run_lint(python)
    say(
        f"checks: {verdict['passed']} passed, {verdict['bad']} failed in {verdict['seconds']:.0f}s "
        "(log: .run/logs/lint.log)"
    )
    print(f"{verdict['passed']} passed, {verdict['bad']} failed")
    return 1 if verdict["bad"] else 0


# ---------------------------------------------------------------- PostgreSQL


class Postgres:
    """The embedded cluster in .pg/ or the user's server (PGHOST/PGPORT/PGUSER)."""

    def __init__(self):
        self.external = any(os.environ.get(k) for k in ("PGHOST", "PGPORT", "PGUSER"))
        self.data = PGROOT / "data"
        tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]
        self.sockdir = Path(f"/tmp/wmpg-{tag}")  # unix socket paths must stay short
        self.port = "5432"
        self.started_here = False
        if self.external:
            self.host = os.environ.get("PGHOST", "")
            self.port = os.environ.get("PGPORT", "5432")
            self.user = os.environ.get("PGUSER", os.environ.get("USER", "odoo"))
            self.password = os.environ.get("PGPASSWORD", "")
        else:
            self.host = str(self.sockdir)
            self.user = "odoo"
            self.password = ""

    def odoo_args(self):
        args = ["--db_port", self.port, "--db_user", self.user]
        if self.host:
            args += ["--db_host", self.host]
        if self.password:
            args += ["--db_password", self.password]
        return args

    def env(self):
        env = {"PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    # -- embedded cluster
    def _bin(self, name):
        found = shutil.which(name)
        if found:
            return found
        for cand in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
            return str(cand)
        raise HarnessError(
            f"PostgreSQL's `{name}` was not found. Install PostgreSQL (apt-get install postgresql) "
            "or point PGHOST/PGPORT/PGUSER at a running server."
        )

    def _as_owner(self, cmd):
        # PostgreSQL refuses to run as root: run the cluster as `nobody` then.
        if os.geteuid() == 0:
            return ["runuser", "-u", "nobody", "--"] + cmd
        return cmd

    def _chown(self, *paths):
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("nobody")
            for path in paths:
                for dirpath, _dirnames, filenames in os.walk(path):
                    os.chown(dirpath, pw.pw_uid, pw.pw_gid)
                    for name in filenames:
                        os.chown(os.path.join(dirpath, name), pw.pw_uid, pw.pw_gid)

    def _running(self):
        res = subprocess.run(
            self._as_owner([self._bin("pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
            text=True,
            check=False,
        )
        return res.returncode == 0

    def _clear_stale_pid(self):
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            alive = "postgres" in cmdline
        except (OSError, ValueError, IndexError):
            alive = False
        if not alive:
            say("removing a stale postmaster.pid left by a killed run")
            pidfile.unlink()
            for lock in self.sockdir.glob(".s.PGSQL.*"):
                lock.unlink()

    def start(self):
        if self.external:
            say(f"using your PostgreSQL server (PGHOST={self.host or 'default'} PGPORT={self.port} PGUSER={self.user})")
            return
        PGROOT.mkdir(exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        self._chown(self.sockdir)
        if not (self.data / "PG_VERSION").exists():
            say(f"creating the embedded PostgreSQL cluster in {self.data}")
            shutil.rmtree(self.data, ignore_errors=True)
            self.data.mkdir(parents=True)
            self._chown(PGROOT)
            res = subprocess.run(
                self._as_owner(
                    [
                        self._bin("initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        "odoo",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                capture_output=True,
                text=True,
                check=False,
            )
            if res.returncode:
                raise HarnessError(f"initdb failed:\n{res.stdout}\n{res.stderr}")
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write(
                    "\n# ./run: local, unix socket only, tuned for tests\n"
                    "listen_addresses = ''\n"
                    f"unix_socket_directories = '{self.sockdir}'\n"
                    "max_connections = 200\n"
                    "shared_buffers = 256MB\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                )
        if self._running():
            return
        self._clear_stale_pid()
        self._chown(PGROOT)
        log = PGROOT / "postgres.log"
        res = subprocess.run(
            self._as_owner([self._bin("pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start"]),
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise HarnessError(f"PostgreSQL did not start:\n{res.stdout}{res.stderr}\n{tail}")
        self.started_here = True

    def stop(self):
        if self.external or not self.started_here:
            return
        others = self.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        if others != "0":
            say(f"leaving the embedded PostgreSQL running: {others} other connection(s) use it")
            return
        subprocess.run(
            self._as_owner([self._bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
        self.started_here = False

    def psql(self, sql, db="postgres", **params):
        """Run ``sql``; ``params`` are psql variables, quoted by psql where ``sql`` says ``:'name'``
        (a literal) or ``:"name"`` (an identifier).  The statement is read from stdin: psql does not
        interpolate variables in ``-c`` commands."""
        env = dict(os.environ, **self.env())
        variables = [arg for name, value in params.items() for arg in ("-v", f"{name}={value}")]
        res = subprocess.run(
            [self._bin("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", *variables, "-d", db],
            input=sql,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode:
            raise HarnessError(f"psql failed: {sql}\n{res.stderr}")
        return res.stdout.strip()

    def db_exists(self, db):
        return self.psql("SELECT 1 FROM pg_database WHERE datname = :'db_name'", db_name=db) == "1"

    def drop_db(self, db):
        self.psql('DROP DATABASE IF EXISTS :"db_name" WITH (FORCE)', db_name=db)


# ---------------------------------------------------------------- Odoo log analysis

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
# Logged by the test's own logger: "... INFO db odoo.addons.m.tests.t: skipped T.test_x : reason"
SKIP_RE = re.compile(r" INFO \S+ \S+: skipped (\S+) : (.*)$")
DEMO_FAIL_RE = re.compile(r"Module (\S+) demo data failed to install")
FAIL_RE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) \S+ (\S+): (FAIL|ERROR): (.*)$")


def analyze_odoo_log(text):
    """Return the verdict of an Odoo ``--test-enable --stop-after-init`` log.

    Odoo logs skipped tests (a tour without Chromium or websocket-client) at
    INFO and still ends with "0 failed": skips count as failures here.
    """
    result = {"tests": 0, "failed": 0, "errors": 0, "skipped": [], "failures": [], "summary_found": False}
    for line in text.splitlines():
        match = RESULT_RE.search(line)
        if match:
            result["failed"] += int(match.group(1))
            result["errors"] += int(match.group(2))
            result["tests"] += int(match.group(3))
            result["summary_found"] = True
            continue
        match = SKIP_RE.search(line)
        if match:
            result["skipped"].append(f"{match.group(1)}: {match.group(2).strip()}")
            continue
        match = FAIL_RE.search(line)
        if match:
            result["failures"].append(match.group(4).strip())
            continue
        match = DEMO_FAIL_RE.search(line)
        if match:
            result["failures"].append(f"demo data of {match.group(1)} failed to install")
    bad = result["failed"] + result["errors"]
    demo_failures = sum(1 for f in result["failures"] if f.startswith("demo data of"))
    result["passed"] = max(result["tests"] - bad - len(result["skipped"]), 0)
    result["bad"] = bad + len(result["skipped"]) + demo_failures
    return result


# ---------------------------------------------------------------- processes


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port):
    with contextlib.closing(socket.socket()) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_http(url, proc, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"the process serving {url} exited early (code {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise HarnessError(f"{url} did not answer within {timeout}s")


def stop_process(proc, timeout=30):
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def kill_leftovers(pidfile):
    """Stop processes a previous run recorded (after a kill -9 of that run)."""
    if not pidfile.exists():
        return
    for pid in pidfile.read_text().split():
        with contextlib.suppress(OSError, ValueError):
            cmdline = Path(f"/proc/{int(pid)}/cmdline").read_bytes()
            if b"odoo" in cmdline or b"fakewechat" in cmdline:  # not a recycled pid
                os.killpg(int(pid), signal.SIGKILL)
    pidfile.unlink()


def spawn(cmd, log_path, env, pidfile):
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log_path, "w")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    with open(pidfile, "a") as pf:
        pf.write(f"{proc.pid}\n")
    return proc


def with_own_fake(env):
    """``env`` with this checkout's fake platform (``tests/fakewechat``) first on the path.

    The virtualenv's editable install points at the checkout that built it; a git worktree sharing that
    virtualenv must still import its own fake.
    """
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "tests"), env.get("PYTHONPATH")) if p)
    return env


def odoo_env(pg):
    env = dict(os.environ, **pg.env())
    env["PYTHONUNBUFFERED"] = "1"
    return with_own_fake(env)


def base_odoo_args(odoo, pg, db):
    return [
        "--addons-path",
        ",".join(odoo.addons_paths),
        "--data-dir",
        str(RUNDIR / "filestore"),
        "-d",
        db,
        "--db-filter",
        f"^{re.escape(db)}$",
        *pg.odoo_args(),
    ]


# ---------------------------------------------------------------- checks


def check_browser(python):
    problems = []
    if not any(shutil.which(b) for b in ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")):
        problems.append("Chromium is missing (POS and web tours need it): apt-get install chromium")
    res = subprocess.run([python, "-c", "import websocket"], capture_output=True, check=False)
    if res.returncode:
        problems.append(
            "the Python package websocket-client is missing from .venv: .venv/bin/pip install websocket-client"
        )
    if problems:
        raise HarnessError("tours cannot run, and Odoo would silently skip them:\n  - " + "\n  - ".join(problems))


# ---------------------------------------------------------------- commands


def run_odoo_tests(odoo, python, pg, db, log_path, test_tags, pidfile, install=True, extra_env=None, modules=MODULES):
    """Install ``modules`` (or just load ``db``) with --test-enable and return the verdict."""
    cmd = (
        odoo.command(python)
        + base_odoo_args(odoo, pg, db)
        + [
            "--test-enable",
            "--test-tags",
            test_tags,
            "--stop-after-init",
            "--workers",
            "0",
            "--max-cron-threads",
            "0",
            "--http-port",
            str(free_port()),
            "--log-level",
            "info",
        ]
    )
    if install:
        cmd += ["-i", ",".join(modules)]
    env = odoo_env(pg)
    env.update(extra_env or {})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    with open(log_path, "w") as fh:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, start_new_session=True
        )
        with open(pidfile, "a") as pf:
            pf.write(f"{proc.pid}\n")
        for line in proc.stdout:
            fh.write(line)
            if " ERROR " in line or " CRITICAL " in line or ": skipped " in line:
                sys.stdout.write("    " + line)
        proc.wait()
    verdict = analyze_odoo_log(log_path.read_text())
    verdict["returncode"] = proc.returncode
    verdict["seconds"] = time.time() - started
    if proc.returncode and not verdict["bad"]:
        # Odoo stopped before reporting (e.g. a module failed to install).
        verdict["bad"] = 1
        verdict["failures"].append(f"odoo exited with code {proc.returncode} (see {log_path})")
    if not verdict["summary_found"]:
        verdict["bad"] = max(verdict["bad"], 1)
        verdict["failures"].append(f"no test summary in the Odoo log (see {log_path})")
    return verdict


def run_pytest(python, url, db, pg, odoo, log_path, extra_args=None):
    junit = RUNDIR / "pytest.xml"
    with contextlib.suppress(FileNotFoundError):
        junit.unlink()
    env = with_own_fake(dict(os.environ, **pg.env()))
    env.update(
        {
            "WM_ODOO_URL": url,
            "WM_ODOO_DB": db,
            "WM_ODOO_ROOT": str(odoo.root),
            "WM_ODOO_ADDONS": ",".join(odoo.addons_paths),
            "WM_PYTHON": python,
            "PYTHONUNBUFFERED": "1",
        }
    )
    cmd = [
        python,
        "-m",
        "pytest",
        *(extra_args.split() if extra_args else [str(ROOT / "tests")]),
        "-q",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        "-o",
        "junit_family=xunit2",
    ]
    started = time.time()
    with open(log_path, "w") as fh:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, cwd=str(ROOT)
        )
        for line in proc.stdout:
            fh.write(line)
            sys.stdout.write("    " + line)
        proc.wait()
    verdict = {"tests": 0, "passed": 0, "bad": 0, "skipped": [], "failures": [], "seconds": time.time() - started}
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            name = f"{case.get('classname')}.{case.get('name')}"
            verdict["tests"] += 1
            if case.find("skipped") is not None:
                verdict["skipped"].append(name)
            elif case.find("failure") is not None or case.find("error") is not None:
                verdict["failures"].append(name)
            else:
                verdict["passed"] += 1
    verdict["bad"] = len(verdict["failures"]) + len(verdict["skipped"])
    if proc.returncode not in (0, 1) and not verdict["bad"]:
        verdict["bad"] = 1
        verdict["failures"].append(f"pytest exited with code {proc.returncode} (see {log_path})")
    return verdict


def serve_command(odoo, python, pg, db, port, gevent_port, workers=2):
    options = {
        "--workers": workers,
        "--max-cron-threads": 1,
        "--http-port": port,
        "--gevent-port": gevent_port,
        "--http-interface": "127.0.0.1",
        "--limit-time-real": 600,
        "--limit-time-cpu": 300,
        "--limit-memory-soft": 2 * 1024**3,
        "--limit-memory-hard": 3 * 1024**3,
        "--log-level": "info",
    }
    return odoo.command(python) + base_odoo_args(odoo, pg, db) + [str(x) for kv in options.items() for x in kv]


class Session:
    """What every command needs: Odoo, the venv, PostgreSQL, and the processes it starts.

    Processes are recorded in ``.run/<name>.pids`` so that a run killed with
    ``kill -9`` has its leftovers stopped by the next one; on exit they are
    stopped and PostgreSQL too, when this session started it.
    """

    def __init__(self, name, browser=False):
        self.name, self.browser = name, browser
        self.procs = []

    def __enter__(self):
        self.odoo = find_odoo()
        say(f"Odoo 18.0 at {self.odoo.root} ({self.odoo.via})")
        self.python = ensure_venv(self.odoo)
        if self.browser:
            check_browser(self.python)
        RUNDIR.mkdir(exist_ok=True)
        self.pidfile = RUNDIR / f"{self.name}.pids"
        kill_leftovers(self.pidfile)
        self.pg = Postgres()
        self.pg.start()
        return self

    def spawn(self, cmd, log_path, env):
        proc = spawn(cmd, log_path, env, self.pidfile)
        self.procs.append(proc)
        return proc

    def serve(self, db, port, log_name, proxy=False):
        """Odoo with --workers=2 on ``db``, as retailers run it; returns once it answers.

        ``proxy``: Odoo listens on ports of its own and ``port`` is the demo proxy's
        (``tools/demo_proxy.py``: ``/websocket`` to the gevent port, the rest to the workers),
        as a production reverse proxy gives one URL; else Odoo's HTTP port is ``port``.
        """
        gevent_port = free_port()
        http_port = free_port() if proxy else port
        cmd = serve_command(self.odoo, self.python, self.pg, db, http_port, gevent_port)
        proc = self.spawn(cmd, RUNDIR / "logs" / log_name, odoo_env(self.pg))
        wait_http(f"http://127.0.0.1:{http_port}/web/health", proc)
        # The gevent worker serves the bus (POS notifications): it must be up too.
        wait_http(f"http://127.0.0.1:{gevent_port}/web/health", proc, timeout=60)
        if proxy:
            front = self.spawn(
                [
                    self.python,
                    str(ROOT / "tools" / "demo_proxy.py"),
                    "--port",
                    str(port),
                    "--http",
                    f"127.0.0.1:{http_port}",
                    "--gevent",
                    f"127.0.0.1:{gevent_port}",
                ],
                RUNDIR / "logs" / f"proxy-{log_name}",
                dict(os.environ),
            )
            wait_http(f"http://127.0.0.1:{port}/web/health", front, timeout=30)
        return proc

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            stop_process(proc)
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()
        self.pg.stop()
        return False


def standalone_db(modules):
    return "_".join([TEST_DB] + [m.removeprefix("wechat_") for m in modules])


def run_standalone_tests(sess, step):
    """Install each of ``STANDALONE_SETS`` alone in a fresh database with --test-enable and run its
    tests (no tours); the sets run side by side (one Odoo process each).  Returns their verdicts."""
    runs = []
    for modules in STANDALONE_SETS:
        db = standalone_db(modules)
        log_path = RUNDIR / "logs" / f"odoo-tests-{db.removeprefix(TEST_DB + '_')}.log"
        sess.pg.drop_db(db)
        tags = ",".join([f"/{m}" for m in modules] + list(STANDALONE_SKIPPED_TOURS))
        runs.append((modules, db, log_path, tags))
    say(
        f"{step} installing, side by side in fresh databases, with --test-enable, tours skipped: "
        + "; ".join(f"{' + '.join(m)} alone in {db} (log: .run/logs/{log.name})" for m, db, log, __ in runs)
    )
    with concurrent.futures.ThreadPoolExecutor(len(runs)) as pool:
        futures = [
            pool.submit(
                run_odoo_tests, sess.odoo, sess.python, sess.pg, db, log_path, tags, sess.pidfile, modules=modules
            )
            for modules, db, log_path, tags in runs
        ]
        verdicts = [future.result() for future in futures]
    for (modules, *__), verdict in zip(runs, verdicts, strict=False):
        say(
            f"    {' + '.join(modules)} alone: {verdict['passed']} passed, {verdict['bad']} failed "
            f"({verdict['tests']} run, {len(verdict['skipped'])} skipped) in {verdict['seconds']:.0f}s"
        )
    return verdicts


def cmd_test(args):
    started = time.time()
    # The standalone module sets run in the full run; a targeted run (--tags, --pytest-args) only
    # with --standalone.
    targeted = bool(args.tags or args.pytest_args)
    standalone = args.standalone if args.standalone is not None else not targeted
    lint = args.lint if args.lint is not None else not targeted
    steps = 2 + standalone + lint
    step = iter(range(1, steps + 1))
    with Session("test", browser=True) as sess:
        odoo, python, pg = sess.odoo, sess.python, sess.pg
        verdicts = []
        if lint:
            say(
                f"{next(step)}/{steps} checks of .pre-commit-config.yaml: ruff, ruff format, pylint-odoo, ... "
                "(log: .run/logs/lint.log)"
            )
            lint_v = run_lint(python)
            say(f"    checks: {lint_v['passed']} passed, {lint_v['bad']} failed in {lint_v['seconds']:.0f}s")
            verdicts.append(lint_v)
        pg.drop_db(TEST_DB)
        tags = args.tags or ",".join(f"/{m}" for m in MODULES)
        say(
            f"{next(step)}/{steps} installing {', '.join(MODULES)} in a fresh database with --test-enable "
            "(log: .run/logs/odoo-tests.log)"
        )
        odoo_v = run_odoo_tests(odoo, python, pg, TEST_DB, RUNDIR / "logs" / "odoo-tests.log", tags, sess.pidfile)
        say(
            f"    Odoo tests: {odoo_v['passed']} passed, {odoo_v['bad']} failed "
            f"({odoo_v['tests']} run, {len(odoo_v['skipped'])} skipped) in {odoo_v['seconds']:.0f}s"
        )
        py_v = {"tests": 0, "passed": 0, "bad": 0, "skipped": [], "failures": [], "seconds": 0}
        if args.no_pytest:
            say(f"{next(step)}/{steps} skipped pytest (--no-pytest)")
        elif odoo_v["returncode"] in (0, 1) and (odoo_v["summary_found"] or args.tags):
            port = free_port()
            say(
                f"{next(step)}/{steps} serving {TEST_DB} with --workers=2 on http://127.0.0.1:{port} "
                "and running pytest tests/"
            )
            # Links built by Odoo (OAuth redirects, callbacks) must point at this server, not the
            # port the tours of the install step used.
            pg.psql(
                "UPDATE ir_config_parameter SET value = :'url' WHERE key = 'web.base.url'",
                db=TEST_DB,
                url=f"http://127.0.0.1:{port}",
            )
            server = sess.serve(TEST_DB, port, "odoo-server.log", proxy=True)
            py_v = run_pytest(
                python, f"http://127.0.0.1:{port}", TEST_DB, pg, odoo, RUNDIR / "logs" / "pytest.log", args.pytest_args
            )
            say(
                f"    pytest: {py_v['passed']} passed, {py_v['bad']} failed "
                f"({len(py_v['skipped'])} skipped) in {py_v['seconds']:.0f}s"
            )
            if standalone:  # the two cores are for the standalone runs now
                stop_process(server)
                sess.procs.remove(server)
        else:
            say(f"{next(step)}/{steps} skipped pytest: the module install failed")
        verdicts += [odoo_v, py_v]
        if standalone:
            verdicts += run_standalone_tests(sess, f"{next(step)}/{steps}")
    passed = sum(v["passed"] for v in verdicts)
    failed = sum(v["bad"] for v in verdicts)
    for name in [name for v in verdicts for name in v["skipped"]]:
        print(f"SKIPPED (counted as failed): {name}")
    for name in [name for v in verdicts for name in v["failures"]]:
        print(f"FAILED: {name}")
    if passed + failed == 0:
        print("no test ran: that is a failure")
        failed = 1
    say(f"total time {time.time() - started:.0f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def modules_digest():
    """A digest of the add-ons' files: the demo database is updated when it changes."""
    digest = hashlib.sha256()
    for module in MODULES:
        for path in sorted((ROOT / module).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cmd_demo(args):
    # Ctrl-C, and `kill` too, stop everything the demo started (a background
    # job of a non-interactive shell starts with SIGINT ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with Session("demo") as sess:
            odoo, python, pg = sess.odoo, sess.python, sess.pg
            if args.reset:
                pg.drop_db(DEMO_DB)
            stamp = RUNDIR / "demo-modules.sha256"
            installed = pg.db_exists(DEMO_DB) and pg.psql(
                "SELECT count(*) FROM ir_module_module WHERE state = 'installed'"
                " AND name = ANY(string_to_array(:'modules', ','))",
                db=DEMO_DB,
                modules=",".join(MODULES),
            ) == str(len(MODULES))
            code = modules_digest()
            if not installed:
                say(f"installing the demo database {DEMO_DB} (modules, demo data, Chinese; ~2 min)")
                options = ["-i", ",".join(MODULES), "--load-language", "zh_CN"]
            elif not stamp.exists() or stamp.read_text() != code:
                say(f"updating the demo database {DEMO_DB}: the modules changed since it was made (~1 min)")
                options = ["-u", ",".join(MODULES)]
            else:
                say(f"reusing the demo database {DEMO_DB} (./run demo --reset to start over)")
                options = None
            if options:
                res = subprocess.run(
                    odoo.command(python)
                    + base_odoo_args(odoo, pg, DEMO_DB)
                    + options
                    + ["--stop-after-init", "--log-level", "warn"],
                    env=odoo_env(pg),
                    check=False,
                )
                if res.returncode:
                    raise HarnessError(
                        f"{'installing' if options[0] == '-i' else 'updating'} the demo database "
                        "failed (see the log above)"
                    )
                stamp.write_text(code)
            fake_port = args.fake_port or free_port()
            fake = sess.spawn(
                [python, "-m", "fakewechat", "serve", "--port", str(fake_port)],
                RUNDIR / "logs" / "fakewechat.log",
                dict(os.environ, PYTHONPATH=str(ROOT / "tests")),
            )
            fake_url = f"http://127.0.0.1:{fake_port}"
            wait_http(f"{fake_url}/_fake/health", fake, timeout=30)
            port = args.port if port_free(args.port) else free_port()
            sess.serve(DEMO_DB, port, "odoo-demo.log", proxy=True)
            url = f"http://127.0.0.1:{port}"
            sandbox, appid = connect_sandbox(url, fake_url)
            print(DEMO_BANNER.format(url=url, db=DEMO_DB, fake_url=fake_url, sandbox=sandbox, appid=appid), flush=True)
            while all(p.poll() is None for p in sess.procs):
                time.sleep(1)
            raise HarnessError("a demo process exited; see .run/logs/")
    except KeyboardInterrupt:
        say("stopped")
        return 0


DEMO_BANNER = """
==================================================================
 WeChat member marketing demo / 微信会员营销演示
 Odoo:          {url}/odoo   (database {db})
 Logins:        manager / manager      (WeChat Marketing manager)
                cashier1 / cashier1    (cashier, Store Shanghai)
                cashier2 / cashier2    (cashier, Store Beijing)
                admin / admin          (administrator)
 POS:           {url}/pos/ui
 Fake WeChat:   {fake_url}   (sandbox, nothing leaves this machine)
{sandbox}
 Simulate a follower:
   PYTHONPATH=tests .venv/bin/python -m fakewechat follow --url {fake_url} --appid {appid} --scene store_shanghai
   PYTHONPATH=tests .venv/bin/python -m fakewechat text --url {fake_url} --appid {appid} \\
       --openid <openid> --content 积分
 Member page:   {url}/wechat/member/<account id> (the fake signs you in as the last simulated user)
 Logs:          .run/logs/   Stop with Ctrl-C.
=================================================================="""


# Benchmarks that run on a database of their own, dropped and re-created at each run.  Coupon
# issue: Odoo's loyalty.generate.wizard draws 32-bit codes, so coupons left in a shared
# database by earlier runs make it fail with "A coupon/loyalty card must have a unique code".
FRESH_BENCH_DBS = {
    "coupon_issue": "wm_bench_coupon",
    "notice_route": "wm_bench_notice",
    "member_import": "wm_bench_import",
    # A million members each, on a database of their own (dropped at each run).
    "mass_send": "wm_bench_mass",
    "rfm": "wm_bench_scale",
    "tag_sync": "wm_bench_scale",
    "points_expiry": "wm_bench_points",
}
BENCH_DB = "wm_bench"


def cmd_bench(args):
    """Run bench/*.py against Odoo served with --workers=2 on its own database."""
    names = args.names or sorted(p.stem[len("bench_") :] for p in (ROOT / "bench").glob("bench_*.py"))
    by_db = {}
    for name in names:
        by_db.setdefault(FRESH_BENCH_DBS.get(name, BENCH_DB), []).append(name)
    with Session("bench") as sess:
        for db, db_names in by_db.items():
            fresh = db != BENCH_DB
            if fresh:
                sess.pg.drop_db(db)
            exists = sess.pg.db_exists(db)
            say(f"{'updating' if exists else 'installing'} {db}{' (fresh)' if fresh else ''} (no demo data)")
            subprocess.run(
                sess.odoo.command(sess.python)
                + base_odoo_args(sess.odoo, sess.pg, db)
                + [
                    "-u" if exists else "-i",
                    ",".join(MODULES),
                    "--without-demo",
                    "all",
                    "--stop-after-init",
                    "--log-level",
                    "warn",
                ],
                env=odoo_env(sess.pg),
                check=True,
            )
            port = free_port()
            server = sess.serve(db, port, f"odoo-bench-{db}.log")
            # WM_ODOO_ADDONS / WM_ODOO_DATA_DIR: for benches that also open the database in-process (private
            # methods cannot be called over JSON-RPC).
            env = dict(
                os.environ,
                **sess.pg.env(),
                WM_ODOO_URL=f"http://127.0.0.1:{port}",
                WM_ODOO_DB=db,
                WM_ODOO_ADDONS=",".join(sess.odoo.addons_paths),
                WM_ODOO_DATA_DIR=str(RUNDIR / "filestore"),
            )
            for name in db_names:
                script = ROOT / "bench" / f"bench_{name}.py"
                say(f"running {script.relative_to(ROOT)} on {db}")
                subprocess.run([sess.python, str(script)], env=env, check=True)
            stop_process(server)
            sess.procs.remove(server)
    return 0


def cmd_i18n(args):
    """Export each module's .pot from a scratch database and merge it into zh_CN.po."""
    db = "wm_i18n"
    with Session("i18n") as sess:
        base = sess.odoo.command(sess.python) + base_odoo_args(sess.odoo, sess.pg, db)
        # A fresh database with demo data: its records' names are terms too (the i18n tests run with demo data).
        sess.pg.drop_db(db)
        subprocess.run(
            base + ["-i", ",".join(MODULES), "--stop-after-init", "--log-level", "warn"],
            env=odoo_env(sess.pg),
            check=True,
        )
        for module in MODULES:
            pot = ROOT / module / "i18n" / f"{module}.pot"
            pot.parent.mkdir(exist_ok=True)
            subprocess.run(
                base + ["--i18n-export", str(pot), "--modules", module, "--stop-after-init", "--log-level", "warn"],
                env=odoo_env(sess.pg),
                check=True,
            )
            po = pot.parent / "zh_CN.po"
            if po.exists() and shutil.which("msgmerge"):
                subprocess.run(
                    ["msgmerge", "--quiet", "--update", "--no-fuzzy-matching", "--backup=none", str(po), str(pot)],
                    check=True,
                )
            say(f"{module}: {pot.relative_to(ROOT)} exported, zh_CN.po merged")
    say("now translate the empty msgstr entries of each zh_CN.po (tests/test_i18n.py checks them)")
    return 0


def _post_json(url, payload, timeout):
    """POST ``payload`` as JSON; an HTTP error status raises (``urllib.error.HTTPError``)."""
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


SANDBOX_ACCOUNT_FIELDS = [
    "name",
    "appid",
    "appsecret",
    "callback_token",
    "encoding_aes_key",
    "encrypt_mode",
    "webhook_url",
    "pay_mch_id",
    "pay_api_key",
    "certified",
    "timeout",
    "notice_template_ids",
]


def connect_sandbox_accounts(
    url, fake_url, db=DEMO_DB, login="admin", password="admin", domain=(("sandbox", "=", True),)
):
    """Point the sandbox accounts of the Odoo at ``url`` at the fake platform at ``fake_url``.

    Over XML-RPC as an administrator: sets ``web.base.url`` to ``url`` (the
    callback URL), writes each account's ``sandbox_url``, and registers the
    account, its notice templates and its followers with the fake platform (private
    ``/_fake/…`` endpoints) so it signs its callbacks with their secrets.
    Returns ``[{name, appid, webhook}]``, or ``[]`` without the modules.
    """
    uid = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common").authenticate(db, login, password, {})
    if not uid:
        raise HarnessError(f"login {login!r} refused on {db}")
    models = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return models.execute_kw(db, uid, password, model, method, list(args), kwargs)

    if not call("ir.model", "search_count", [("model", "=", "wechat.account")]):
        return []
    call("ir.config_parameter", "set_param", "web.base.url", url)
    fake = fake_url.rstrip("/")
    ids = call("wechat.account", "search", [list(term) for term in domain])
    if ids:
        call("wechat.account", "write", ids, {"sandbox_url": fake_url})
    result = []
    for account in call("wechat.account", "read", ids, SANDBOX_ACCOUNT_FIELDS):
        timeout = account["timeout"]
        _post_json(
            f"{fake}/_fake/accounts",
            {
                "appid": account["appid"],
                "secret": account["appsecret"],
                "token": account["callback_token"],
                "aes_key": account["encoding_aes_key"] or None,
                "encrypt_mode": account["encrypt_mode"],
                "webhook_url": account["webhook_url"],
                "mch_id": account["pay_mch_id"],
                "mch_key": account["pay_api_key"],
                "certified": account["certified"],
            },
            timeout,
        )
        # The account's templates exist on the fake too.
        for mapping in call(
            "wechat.notice.template",
            "read",
            account["notice_template_ids"],
            ["channel", "template_id", "kind_id", "line_ids"],
        ):
            kind = call("wechat.notice.kind", "read", [mapping["kind_id"][0]], ["name"])[0]
            lines = {
                line["id"]: line["keyword"]
                for line in call("wechat.notice.template.line", "read", mapping["line_ids"], ["keyword"])
            }
            path = "subscribe_templates" if mapping["channel"] == "subscribe" else "templates"
            _post_json(
                f"{fake}/_fake/{path}",
                {
                    "appid": account["appid"],
                    "template_id": mapping["template_id"],
                    "title": kind["name"],
                    "keywords": [lines[line_id] for line_id in mapping["line_ids"]],
                },
                timeout,
            )
        # Its followers too (the demo's members), with the customer-service window of their last message: what
        # the shop sends them is taken as the real platform would.
        for member in call(
            "wechat.member",
            "search_read",
            [("account_id", "=", account["id"]), ("state", "=", "follower")],
            ["openid", "unionid", "cs_message_at"],
        ):
            follower = {"appid": account["appid"], "openid": member["openid"]}
            if member["unionid"]:
                follower["unionid"] = member["unionid"]
            if member["cs_message_at"]:
                when = datetime.datetime.strptime(member["cs_message_at"], "%Y-%m-%d %H:%M:%S")
                follower["cs_message_at"] = when.replace(tzinfo=datetime.timezone.utc).timestamp()
            _post_json(f"{fake}/_fake/followers", follower, timeout)
        result.append({"name": account["name"], "appid": account["appid"], "webhook": account["webhook_url"]})
    return result


def connect_sandbox(url, fake_url):
    """Point the demo's sandbox accounts at the fake platform we just started: the banner's lines and an AppID."""
    try:
        accounts = connect_sandbox_accounts(url, fake_url)
    except (OSError, xmlrpc.client.Error) as exc:
        raise HarnessError(f"connecting the sandbox account to the fake WeChat platform failed:\n{exc}") from exc
    if not accounts:
        return " Sandbox:       no sandbox WeChat account in the database", "<AppID>"
    lines = "\n".join(f" Account:       {a['name']}  AppID {a['appid']}  webhook {a['webhook']}" for a in accounts)
    return lines, accounts[0]["appid"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="./run", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_test = sub.add_parser("test", help="run every test; ends with 'N passed, N failed'")
    p_test.add_argument("--tags", help="for development: Odoo --test-tags instead of every module's tests")
    p_test.add_argument(
        "--pytest-args",
        help="for development: pytest arguments instead of tests/, e.g. " "'tests/test_fake_messages.py -k window'",
    )
    p_test.add_argument("--no-pytest", action="store_true", help="for development: the Odoo tests only")
    p_test.add_argument(
        "--standalone",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also install " + " and ".join("+".join(m) for m in STANDALONE_SETS) + " alone, each "
        "in a database of its own, and run their tests (default: on, off with --tags/--pytest-args)",
    )
    p_test.add_argument(
        "--lint",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the checks of .pre-commit-config.yaml first (default: on, off with --tags/--pytest-args)",
    )
    p_test.set_defaults(func=cmd_test)
    p_demo = sub.add_parser("demo", help="run the demo with the sandbox WeChat platform")
    p_demo.add_argument("--port", type=int, default=8069)
    p_demo.add_argument("--fake-port", type=int, default=0)
    p_demo.add_argument("--reset", action="store_true", help="drop the demo database first")
    p_demo.set_defaults(func=cmd_demo)
    p_bench = sub.add_parser("bench", help="run the benchmarks in bench/ (ratios to a baseline)")
    p_bench.add_argument("names", nargs="*", help="e.g. webhook (bench/bench_webhook.py); default: all")
    p_bench.set_defaults(func=cmd_bench)
    p_lint = sub.add_parser("lint", help="the checks of .pre-commit-config.yaml (ruff, pylint-odoo, ...)")
    p_lint.set_defaults(func=cmd_lint)
    p_i18n = sub.add_parser("i18n", help="export the .pot files and merge them into zh_CN.po")
    p_i18n.set_defaults(func=cmd_i18n)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HarnessError as exc:
        print(f"\n[run] ERROR: {exc}\n", file=sys.stderr, flush=True)
        if args.command == "test":
            print("0 passed, 1 failed")
        return 2


if __name__ == "__main__":
    sys.exit(main())
