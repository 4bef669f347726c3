"""Ports of the local world: the default where it is free, else a free one the OS picks."""

from __future__ import annotations

import socket


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def choose_ports(host: str, defaults: dict[str, int]) -> dict[str, int]:
    """For each name, its default port when free (0: any), else a free one; never the same port twice."""
    chosen: dict[str, int] = {}
    for name, default in defaults.items():
        port = default
        if port == 0 or port in chosen.values() or not port_free(host, port):
            port = free_port(host)
            while port in chosen.values():
                port = free_port(host)
        chosen[name] = port
    return chosen


__all__ = ["choose_ports", "free_port", "port_free"]
