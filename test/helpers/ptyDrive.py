"""Drives a command through a real pseudo-terminal, for tests of interactive prompts.

Reads one JSON document on stdin:
  {"cmd": [...], "cwd": "...", "env": {...}, "timeout": 60, "size": [rows, columns] (default [50, 160]),
   "steps": [{"expect": "<regex on the ANSI-stripped terminal text>", "send": "<keys>"}, ...]}
The command's stdin and stderr are the terminal (so it is interactive); its stdout is a pipe, kept
apart. Each step waits for its regex to appear after the previous match, then types its keys.
Prints one JSON document: {"code", "stdout", "terminal" (ANSI-stripped), "raw_bytes" (what the terminal
received, unstripped), "cursor_hidden" (an ESC [?25l was sent, as spinners do), "steps_done", "error"?}.
"""
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]|\r")


def main():
    spec = json.load(sys.stdin)
    master, slave = os.openpty()
    rows, columns = spec.get("size", [50, 160])
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = dict(spec.get("env") or os.environ)
    proc = subprocess.Popen(
        spec["cmd"], cwd=spec.get("cwd"), env=env, stdin=slave, stderr=slave, stdout=subprocess.PIPE,
        start_new_session=True,
    )
    os.close(slave)
    raw = b""
    out = b""
    deadline = time.time() + spec.get("timeout", 60)
    steps = spec.get("steps", [])
    done = 0
    position = 0
    error = None
    eof = False

    def pump(wait):
        nonlocal raw, out, eof
        fds = [master] + ([proc.stdout] if proc.stdout and not proc.stdout.closed else [])
        readable, _, _ = select.select(fds, [], [], wait)
        for fd in readable:
            if fd is master:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    eof = True
                raw += chunk
            else:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if chunk:
                    out += chunk
                else:
                    proc.stdout.close()

    while done < len(steps):
        text = ANSI.sub("", raw.decode("utf8", "replace"))
        match = re.compile(steps[done]["expect"]).search(text, position)
        if match:
            position = match.end()
            time.sleep(0.15)  # let the prompt finish drawing and enter raw mode
            os.write(master, steps[done]["send"].encode("utf8"))
            done += 1
            continue
        if time.time() > deadline or (eof and proc.poll() is not None):
            error = "timed out waiting for %r" % steps[done]["expect"] if time.time() > deadline else (
                "exited before %r" % steps[done]["expect"])
            break
        pump(0.1)
    while proc.poll() is None and time.time() < deadline:
        pump(0.1)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        error = error or "timed out waiting for the exit"
    end = time.time() + 2
    while time.time() < end:
        readable = select.select([master], [], [], 0.05)[0]
        if not readable:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        raw += chunk
    if proc.stdout and not proc.stdout.closed:
        out += proc.stdout.read()
    result = {
        "code": proc.wait(),
        "stdout": out.decode("utf8", "replace"),
        "terminal": ANSI.sub("", raw.decode("utf8", "replace")),
        "raw_bytes": len(raw),
        "cursor_hidden": b"\x1b[?25l" in raw,
        "steps_done": done,
    }
    if error:
        result["error"] = error
    json.dump(result, sys.stdout)


main()
