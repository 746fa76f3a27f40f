"""What an OpenSSH client's stderr says went wrong, as a ConnectionFailed.

ssh exits 255 for every connection problem; its last words tell them apart.
"""

from __future__ import annotations

import re

from edge_bench.devices.errors import ConnectionFailed, ConnectionLost

# (pattern in ssh's stderr, reason, message, hint); the first match wins.
_PATTERNS: list[tuple[str, str, str, str]] = [
    (r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed",
     "host-key-changed", "the host key of {dest} has CHANGED since it was recorded",
     "if the device was reinstalled, remove the old key (ssh-keygen -R HOST -f KNOWN_HOSTS) and add the new one; otherwise someone may be intercepting the connection"),
    (r"No \S+ host key is known|Host key verification failed",
     "host-key-unknown", "the host key of {dest} is not in {known_hosts}",
     "add it after checking its fingerprint, e.g. ssh-keyscan -p PORT HOST >> KNOWN_HOSTS (edge-bench never accepts unknown keys)"),
    (r"Permission denied|Too many authentication failures",
     "auth", "{dest} refused the login (public key authentication failed)",
     "check [ssh] user and identity_file, and that the key is in the device's authorized_keys"),
    (r"Could not resolve hostname|Name or service not known|nodename nor servname",
     "dns", "cannot resolve the host name {host}", "check [ssh] host, or use an IP address"),
    (r"Connection refused", "refused", "{dest} refused the connection (no sshd listening?)",
     "check [ssh] port and that sshd runs on the device"),
    (r"timed out|Operation timed out", "timeout", "{dest} did not answer in time",
     "check that the device is on and on the network; raise [ssh] connect_timeout on slow links"),
    (r"No route to host|Network is unreachable|Host is down", "unreachable", "{dest} is unreachable",
     "check the network between this machine and the device"),
]

_CUT = re.compile(r"closed by remote host|Broken pipe|Connection reset|client_loop|Timeout, server .* not responding|"
                  r"Connection closed|lost connection|mux_client")


def classify(stderr: bytes, dest: str, known_hosts: str) -> ConnectionFailed:
    """The error for an ssh run that ended without the command's exit status.

    Only the last lines are read: ssh's own words come last, after whatever the
    remote command wrote to stderr before the connection failed.
    """
    tail = stderr.decode("utf-8", "replace").splitlines()[-25:]
    text = "\n".join(tail)
    for pattern, reason, message, hint in _PATTERNS:
        if re.search(pattern, text):
            said = message.format(dest=dest, host=dest.rpartition("@")[2], known_hosts=known_hosts)
            return ConnectionFailed(said, hint=hint, reason=reason)
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    if last and not _CUT.search(last):
        return ConnectionFailed(f"ssh to {dest} failed: {last}", reason="unreachable")
    detail = f" ({last})" if last else ""
    return ConnectionLost(f"the connection to {dest} was cut before the command finished{detail}",
                          hint="check the device's power and network; the job can be retried")
