"""Starts the real tidemark binary for the compatibility tests.

TIDEMARK_BIN names the binary (scripts/test.sh builds it and sets it)."""
import os
import queue
import shutil
import subprocess
import tempfile
import threading

import pytest

OPERATOR_TOKEN = "compat-operator-token"


class Server:
    def __init__(self, data_dir):
        binary = os.environ.get("TIDEMARK_BIN")
        if not binary:
            raise RuntimeError("set TIDEMARK_BIN to the tidemark binary")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIDEMARK_")}
        self.proc = subprocess.Popen(
            [binary, "serve", "--data-dir", data_dir, "--bind", "127.0.0.1:0",
             "--operator-token", OPERATOR_TOKEN, "--log-filter", "warn"],
            stdout=subprocess.PIPE, text=True, env=env)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.proc.stdout], daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty:
                self.proc.kill()
                raise RuntimeError("tidemark did not start")
            prefix = "tidemark listening on http://"
            if line.startswith(prefix):
                self.addr = line[len(prefix):].split()[0]
                break
        self.url = f"http://{self.addr}"
        self.token = OPERATOR_TOKEN

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def server():
    tmp = tempfile.mkdtemp(prefix="tidemark-compat-")
    s = Server(os.path.join(tmp, "data"))
    yield s
    s.stop()
    shutil.rmtree(tmp, ignore_errors=True)
