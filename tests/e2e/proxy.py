"""A reverse proxy of the test's own: Debian's nginx (`make test` installs the package), run as
`nginx -p DIR -c CONF -e stderr -g 'daemon off;'` with a config the test writes, its pid file,
logs and temporary files inside DIR (no root paths, never the machine's service). It keeps the
`Host` and the path as the client sent them, as docs/operating.md tells operators to, and logs
each request with the `X-Worker` of the worker that answered it.

Without nginx the tests that use it skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from node.demo.local_cluster import free_port, wait_for
from tests.conftest import UNDER_CI

CONFIG = """\
{user}
worker_processes 1;
pid {dir}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    log_format workers '$request_method $request_uri $status $upstream_http_x_worker';
    access_log {dir}/access.log workers;
    client_body_temp_path {dir}/temp/body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    client_max_body_size 3m;

    upstream circle_node {{
        server {upstream};
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://circle_node;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    """nginx's path, or skip (fail under CI=true) with the reason there is none."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )
    if found is None:
        reason = "nginx is not installed (Debian package `nginx`; `make test` installs it)"
        if UNDER_CI:
            pytest.fail(f"CI=true requires the test behind a proxy to run: {reason}")
        pytest.skip(reason)
    return found


@dataclass
class Nginx:
    process: subprocess.Popen[bytes]
    url: str
    folder: Path

    def served_by(self) -> Counter[str]:
        """How many requests each worker answered (by the pid in its `X-Worker`), from the
        access log."""
        counts: Counter[str] = Counter()
        for line in (self.folder / "access.log").read_text().splitlines():
            worker = line.rsplit(" ", 1)[-1]
            if worker != "-":
                counts[worker] += 1
        return counts

    def errors(self) -> str:
        return (self.folder / "error.log").read_text(errors="replace")


@contextlib.contextmanager
def nginx_in_front(folder: Path, upstream: str, port: int | None = None) -> Iterator[Nginx]:
    """nginx on `port` of loopback (default: a free one), proxying all to `upstream` (host:port)."""
    binary = nginx_binary()
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "temp" / temp).mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    # As root, nginx's own worker would run as `nobody`, which cannot enter the test's folder.
    user = "user root root;" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(CONFIG.format(user=user, dir=folder, port=port, upstream=upstream))
    with (folder / "error.log").open("wb") as errors:
        process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
            stdout=errors,
            stderr=subprocess.STDOUT,
        )
    proxy = Nginx(process, f"http://127.0.0.1:{port}", folder)
    try:
        wait_for(lambda: _answers(proxy), 30, "nginx to answer")
        yield proxy
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(proxy: Nginx) -> bool:
    if proxy.process.poll() is not None:
        raise RuntimeError(f"nginx exited:\n{proxy.errors()[-3000:]}")
    try:
        with urllib.request.urlopen(f"{proxy.url}/healthz", timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # nginx answers; the upstream may not be up yet
    except OSError:
        return False
