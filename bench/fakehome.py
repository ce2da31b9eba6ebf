"""Run ``clerkdesk ARGS`` as if this account's home (in the password database) were HOME.

Server mode finds its folder from the password database, never from $HOME; the warm-server
tests and benchmarks run as one account with a scratch home each, so they patch that one look-up
(before anything is imported; a forked session inherits the patch):

    python -m bench.fakehome HOME serve --key k1
"""

from __future__ import annotations

import os
import pwd
import sys


def main() -> None:
    home = sys.argv[1]
    real = pwd.getpwuid

    def getpwuid(uid: int) -> pwd.struct_passwd:
        p = real(uid)
        if uid != os.getuid():
            return p
        return pwd.struct_passwd((p.pw_name, p.pw_passwd, p.pw_uid, p.pw_gid, p.pw_gecos, home, p.pw_shell))

    pwd.getpwuid = getpwuid  # type: ignore[assignment]
    sys.argv = ["clerkdesk", *sys.argv[2:]]
    from tui.__main__ import start

    start()


if __name__ == "__main__":
    main()
