"""A newcomer's first `make demo`: how long to the first page, and to the first FAQ answer.

A fresh copy of this working tree (a clone of the repository with the tree's changes laid
over it: tracked and untracked files, nothing git ignores, so no virtual environment, no
node_modules, no KaTeX) in --dir, then `make demo PORT=...` there with pip's cache off
(PIP_NO_CACHE_DIR=1). Polls http://127.0.0.1:PORT/ for the first page; then asks the FAQ of
the first paper of /arxiv/cs.CL (English) and reads its stream to the end, printing each
step the reader is shown with its time (while llama.cpp builds in the background, the FAQ
waits and says so). Then stops the demo.

--cold: llama.cpp is built from source (the kept wheel is not used: LLAMA_WHEELS points at an
empty folder of its own, so nothing of yours is moved); without it, the wheel kept in
~/.cache/coolpapers/llama-wheels-avx2 by an earlier build is installed (a second machine of
the same user, or a rerun after `rm -rf .venv`).

What is not cold either way: npm's cache (KaTeX), the operating system's file cache, and here
the package index is a local mirror (no internet): on a real first install pip downloads
about 200 MB more.

Run: .venv/bin/python bench/first_run.py [--cold] [--port 18431] [--dir /tmp/coolpapers-fresh]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from _common import ROOT, machine_note


def fresh_copy(dest: Path) -> None:
    subprocess.run(["rm", "-rf", str(dest)], check=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        ["rsync", "-a", "--from0", "--files-from=-", "./", f"{dest}/"],
        cwd=ROOT,
        input=files,
        check=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cold", action="store_true", help="build llama.cpp from source")
    ap.add_argument("--port", type=int, default=18431)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "coolpapers-fresh")
    args = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", args.port))  # free, else stop here
    print(f"machine: {machine_note()}", flush=True)
    fresh_copy(args.dir)
    make = ["make", "demo", f"PORT={args.port}"]
    if args.cold:
        wheels = Path(tempfile.mkdtemp(prefix="llama-wheels-cold-"))
        make.append(f"LLAMA_WHEELS={wheels}")
    log_path = args.dir / "demo.log"
    env = {**os.environ, "PIP_NO_CACHE_DIR": "1"}
    out: dict[str, Any] = {"cold": args.cold}
    t0 = time.time()

    def note(key: str) -> None:
        out[key] = round(time.time() - t0, 1)
        print(f"{key}: {out[key]} s", flush=True)

    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            make,
            cwd=args.dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{args.port}"
    try:
        while True:
            try:
                if httpx.get(base + "/", timeout=5, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                sys.exit(f"make demo exited: see {log_path}")
            time.sleep(0.5)
        note("first page")
        status = args.dir / ".venv" / ".local-llm.status"

        def built() -> None:
            while "llama.cpp built" not in out:
                try:
                    if '"building"' not in status.read_text():
                        note("llama.cpp built")
                except OSError:
                    pass
                time.sleep(1)

        threading.Thread(target=built, daemon=True).start()
        listing = httpx.get(f"{base}/api/listing/cs.CL", timeout=30, trust_env=False).json()
        pid = listing["entries"][0]["paper"]["id"]
        with httpx.stream(
            "POST", f"{base}/api/papers/{pid}/faq?lang=en", timeout=7200, trust_env=False
        ) as r:
            name, last = "", ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    d = json.loads(line[6:])
                    step = d.get("step") or d.get("state") if name == "status" else ""
                    if step and step != last:
                        last = step
                        print(f"  {time.time() - t0:7.1f} s  {step}", flush=True)
                    if name == "turn" and "first FAQ words" not in out:
                        note("first FAQ words")
                    if name in ("done", "error"):
                        note(f"FAQ {name}")
                        if name == "done":
                            out["source"], out["usage"] = d["source"], d["usage"]
                        else:
                            out["error"] = d
                        break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    print(f"machine at the end: {machine_note()}")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
