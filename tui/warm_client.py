"""The client half of the warm server (``clerkdesk server warm``, tui/warm_server.py).

``clerkdesk serve --key ID`` (what each key's line in authorized_keys runs) first offers its
terminal to a warm server of the same account: a long-lived process that has imported Textual,
SQLAlchemy, the models, the app and the screens once, and forks one session per login. This
module is that offer, and it imports nothing but the standard library's small modules: the
expensive imports are what it exists to avoid. When no warm server answers (none running, a
stale socket, code upgraded since it started, too many sessions) it returns None and `serve`
starts cold exactly as before.

Protocol (one AF_UNIX SOCK_SEQPACKET connection, JSON messages):

- client -> server: ``{"v": 1, "argv": [...], "env": {...}, "cwd": "..."}`` carrying fds 0, 1, 2
  (SCM_RIGHTS);
- server -> client: ``{"pid": N}`` (forked) or ``{"refused": "why"}`` (start cold);
- client -> server (read by the session): ``{"signal": N}`` for SIGWINCH/SIGHUP/SIGTERM/SIGINT
  the client receives; the session's terminal is the client's, not its controlling terminal,
  so the kernel signals the client only;
- server or session -> client: ``{"exit": CODE}`` or ``{"killed": SIGNAL}``; the client ends the
  same way. If the client goes away, the session sees end of file and hangs up.
"""

from __future__ import annotations

import json
import os
import pwd
import signal
import socket
import struct

PROTOCOL = 1
WARM_DIR = (".clerkdesk", "warm")  # under the account's home; 0700
SOCKET_NAME = "socket"
MAX_MESSAGE = 256 * 1024
HANDSHAKE_SECONDS = 10.0  # a loaded machine can be slow to fork; the terminal is untouched until then
FORWARDED = (signal.SIGWINCH, signal.SIGHUP, signal.SIGTERM, signal.SIGINT)


def warm_dir() -> str:
    """The warm server's folder, in the home the password database gives (never $HOME)."""
    return os.path.join(pwd.getpwuid(os.getuid()).pw_dir, *WARM_DIR)


def socket_path() -> str:
    return os.path.join(warm_dir(), SOCKET_NAME)


def is_serve(argv: list[str]) -> bool:
    """Exactly what authorized_keys runs (`serve --key ID`): anything else starts cold."""
    return len(argv) == 4 and argv[1] == "serve" and argv[2] == "--key"


def peer_uid(sock: socket.socket) -> int:
    _pid, uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return int(uid)


def send(sock: socket.socket, msg: dict[str, object]) -> bool:
    try:
        sock.send(json.dumps(msg).encode())
        return True
    except OSError:
        return False


def receive(sock: socket.socket) -> dict[str, object] | None:
    """One message, or None at end of file."""
    data = sock.recv(MAX_MESSAGE)
    if not data:
        return None
    msg = json.loads(data)
    return msg if isinstance(msg, dict) else None


# sun_path holds 108 bytes; a longer path (a deep home folder) is reached through the folder's
# descriptor in /proc, which keeps the name short whatever the folder's depth.
SUN_PATH_MAX = 107


def _via_folder(sock: socket.socket, path: str, op: str) -> None:
    """``sock.bind(path)`` or ``sock.connect(path)``, even when the path is too long for AF_UNIX."""
    call = sock.bind if op == "bind" else sock.connect
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        call(path)
        return
    folder, name = os.path.split(path)
    fd = os.open(folder or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        call(f"/proc/self/fd/{fd}/{name}")
    finally:
        os.close(fd)


def bind_socket(sock: socket.socket, path: str) -> None:
    _via_folder(sock, path, "bind")


def connect(path: str | None = None) -> socket.socket | None:
    """A connection to this account's warm server, or None (no server, stale socket, not ours)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.settimeout(HANDSHAKE_SECONDS)
        _via_folder(sock, path or socket_path(), "connect")
        if peer_uid(sock) != os.getuid():  # only our own account may be handed our terminal
            sock.close()
            return None
    except OSError:
        sock.close()
        return None
    return sock


def run_warm(argv: list[str]) -> int | None:
    """Run the session in the warm server; its exit code, or None to start cold."""
    sock = connect()
    if sock is None:
        return None
    try:
        request = {"v": PROTOCOL, "argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}
        socket.send_fds(sock, [json.dumps(request).encode()], [0, 1, 2])
        reply = receive(sock)
    except (OSError, ValueError):
        sock.close()
        return None
    if reply is not None and ("exit" in reply or "killed" in reply):
        return finish(reply)  # the session ended before the server's word arrived (a refusal)
    if reply is None or not isinstance(reply.get("pid"), int):
        sock.close()  # refused (stale code, busy) or no answer: nothing has touched the terminal
        return None
    return wait_for_session(sock)


def finish(msg: dict[str, object]) -> int | None:
    """The exit code a session's last word says, or None if it is not one."""
    code = msg.get("exit")
    if isinstance(code, int):
        return code
    killed = msg.get("killed")
    if isinstance(killed, int):
        die_of(killed)
        return 128 + killed
    return None


def wait_for_session(sock: socket.socket) -> int:
    """Forward our signals to the session until it says how it ended."""
    sock.settimeout(None)

    def forward(signum: int, _frame: object) -> None:
        send(sock, {"signal": signum})

    for sig in FORWARDED:
        signal.signal(sig, forward)
    while True:
        try:
            msg = receive(sock)
        except ValueError:
            continue
        except OSError:
            msg = None
        if msg is None:  # everyone holding the session's end is gone without a word
            return 1
        code = finish(msg)
        if code is not None:
            return code


def die_of(signum: int) -> None:
    """End as the session ended (sshd reports a signal as such to the person's ssh)."""
    try:
        signal.signal(signum, signal.SIG_DFL)
    except (OSError, ValueError):
        pass  # SIGKILL and SIGSTOP have no handler to reset
    try:
        os.kill(os.getpid(), signum)
    except (OSError, ValueError):
        pass
