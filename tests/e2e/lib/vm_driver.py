# SPDX-License-Identifier: MIT
"""Host side of the VM test: plugs and pulls USB disks when the guest asks for it.

The guest writes a request file ("plug NAME" / "unplug NAME") into SHARE/req/N (9p) and
waits for SHARE/ack/N ("ok" or "error: ..."). The hot-plug goes through QEMU's QMP
socket: blockdev-add + device_add usb-storage on the xHCI bus, device_del (the guest sees
a disk pulled out) + blockdev-del. The run ends when the guest writes SHARE/done, when
QEMU exits, or at the timeout.
"""

import argparse
import json
import os
import select
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.buffer = b""
        self.events = []
        self.next_id = 0
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self, timeout=None):
        """The next message, or None if none came within timeout seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffer:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self.sock], [], [], wait)[0]:
                return None
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP connection closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def execute(self, command, **arguments):
        self.next_id += 1
        request = {"execute": command, "id": self.next_id}
        if arguments:
            request["arguments"] = arguments
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            message = self._read()
            if "event" in message:
                self.events.append(message)
            elif message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{command}: {message['error'].get('desc')}")
                return message.get("return")

    def wait_event(self, name, device, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["event"] == name and event.get("data", {}).get("device") == device:
                    del self.events[i]
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {name} event for {device}")
            message = self._read(left)
            if message is not None:
                self.events.append(message)


class Disks:
    def __init__(self, qmp, images):
        self.qmp = qmp
        self.images = images  # name -> path
        self.plugged = {}  # name -> (node, device id)
        self.count = 0

    def plug(self, name):
        if name not in self.images:
            raise RuntimeError(f"unknown disk '{name}'")
        if name in self.plugged:
            raise RuntimeError(f"disk '{name}' is plugged in already")
        self.count += 1
        node, dev = f"node-{name}-{self.count}", f"usb-{name}-{self.count}"
        self.qmp.execute("blockdev-add", driver="raw", **{"node-name": node},
                         file={"driver": "file", "filename": self.images[name]})
        # The serial names the disk under /dev/disk/by-id in the guest (usb-..._E2E-NAME-0:0).
        self.qmp.execute("device_add", driver="usb-storage", bus="xhci.0", drive=node, id=dev,
                         serial=f"E2E-{name.upper()}")
        self.plugged[name] = (node, dev)

    def unplug(self, name):
        if name not in self.plugged:
            raise RuntimeError(f"disk '{name}' is not plugged in")
        node, dev = self.plugged.pop(name)
        self.qmp.execute("device_del", id=dev)
        self.qmp.wait_event("DEVICE_DELETED", dev, 30)
        self.qmp.execute("blockdev-del", **{"node-name": node})


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--qmp", required=True)
    parser.add_argument("--share", required=True)
    parser.add_argument("--qemu-pid", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--disk", action="append", default=[], help="NAME=IMAGE")
    args = parser.parse_args()

    qmp = Qmp(args.qmp, 30)
    disks = Disks(qmp, dict(d.split("=", 1) for d in args.disk))
    req_dir, ack_dir = os.path.join(args.share, "req"), os.path.join(args.share, "ack")
    done = set()
    deadline = time.monotonic() + args.timeout
    while True:
        if os.path.exists(os.path.join(args.share, "done")):
            print("vm_driver: the guest is done", file=sys.stderr)
            qmp.execute("quit")
            return 0
        if not alive(args.qemu_pid):
            print("vm_driver: QEMU exited before the guest was done", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            print(f"vm_driver: timeout after {args.timeout:.0f} s", file=sys.stderr)
            return 1
        for name in sorted((n for n in os.listdir(req_dir) if n.isdigit()), key=int):
            if name in done:
                continue
            with open(os.path.join(req_dir, name)) as f:
                words = f.read().split()
            try:
                if len(words) != 2 or words[0] not in ("plug", "unplug"):
                    raise RuntimeError(f"bad request {words!r}")
                getattr(disks, words[0])(words[1])
                answer = "ok"
            except Exception as e:  # the guest reports it as a failed step
                answer = f"error: {e}"
            print(f"vm_driver: {' '.join(words)}: {answer}", file=sys.stderr)
            tmp = os.path.join(ack_dir, f".{name}.tmp")
            with open(tmp, "w") as f:
                f.write(answer + "\n")
            os.rename(tmp, os.path.join(ack_dir, name))
            done.add(name)
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
