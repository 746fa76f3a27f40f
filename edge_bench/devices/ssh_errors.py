"""What an OpenSSH client's stderr says went wrong, as a ConnectionFailed.

ssh exits 255 for every connection problem; its last words tell them apart.
Once the remote line has started its command (the START_MARK in stderr), what
follows on stderr is the device's own output: a connection that ends then is
reported as lost, with the host, port and step, and no device line is quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge_bench.devices.errors import ConnectionFailed, ConnectionLost

# (pattern in ssh's stderr, reason, message, hint); the first match wins. Fields: see `Where`.
_PATTERNS: list[tuple[str, str, str, str]] = [
    (r"REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed",
     "host-key-changed", "the host key of {dest} port {port} has CHANGED since it was recorded in {known_hosts}",
     "if the device was reinstalled, remove the old key (ssh-keygen -R '{key_host}' -f {known_hosts}) and add the new one; "
     "otherwise someone may be intercepting the connection"),
    (r"No \S+ host key is known|Host key verification failed",
     "host-key-unknown", "the host key of {dest} port {port} is not in {known_hosts}",
     "add it after checking its fingerprint, e.g. ssh-keyscan -p {port} {host} >> {known_hosts} (edge-bench never accepts unknown keys)"),
    (r"Permission denied|Too many authentication failures",
     "auth", "{dest} port {port} refused the login (public key authentication failed)",
     "check ssh.user ({user}) and ssh.identity_file ({identity}) in the profile, and that the key is in the device's authorized_keys"),
    (r"Could not resolve hostname|Name or service not known|nodename nor servname",
     "dns", "cannot resolve the host name {host}", "check ssh.host ({host}) in the profile, or use an IP address"),
    (r"Connection refused", "refused", "{dest} refused the connection on port {port} (no sshd listening?)",
     "check that sshd runs on {host} and listens on port {port} (ssh.port in the profile)"),
    (r"timed out|Operation timed out", "timeout", "{dest} port {port} did not answer within {connect_timeout:g} s",
     "check that the device is on and on the network; raise ssh.connect_timeout (now {connect_timeout:g} s) on slow links"),
    (r"No route to host|Network is unreachable|Host is down", "unreachable", "{dest} port {port} is unreachable",
     "check the network between this machine and {host}"),
]


@dataclass(frozen=True)
class Where:
    """The facts a message names: the destination and how it was reached, and the step that failed."""

    dest: str
    host: str
    port: int
    user: str
    identity: str
    known_hosts: str
    connect_timeout: float
    step: str


def classify(stderr: bytes, where: Where, started: bool) -> ConnectionFailed:
    """The error for an ssh run that ended without the command's exit status.

    `started`: the remote command had begun (its output may be in `stderr`; it is never quoted).
    Otherwise only the last lines are read: ssh's own words.
    """
    facts = {**vars(where), "key_host": f"[{where.host}]:{where.port}" if where.port != 22 else where.host}
    lost = ConnectionLost(f"the connection to {where.dest} port {where.port} was lost while {where.step}",
                          hint=f"check the power and network of {where.host} and that sshd still runs there; the job can be retried")
    if started:
        return lost
    tail = stderr.decode("utf-8", "replace").splitlines()[-25:]
    text = "\n".join(tail)
    for pattern, reason, message, hint in _PATTERNS:
        if re.search(pattern, text):
            return ConnectionFailed(message.format(**facts), hint=hint.format(**facts), reason=reason)
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    if not last or _CUT.search(last):
        return lost
    return ConnectionFailed(f"ssh to {where.dest} port {where.port} failed while {where.step}: {last[-300:]}", reason="unreachable")


_CUT = re.compile(r"closed by remote host|Broken pipe|Connection reset|client_loop|Timeout, server .* not responding|"
                  r"Connection closed|lost connection|mux_client")
