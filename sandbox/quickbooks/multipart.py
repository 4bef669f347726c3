"""multipart/form-data bodies (the /upload endpoint), read with the standard library's MIME parser.

Clients differ: CRLF or bare LF line ends, a preamble before the first boundary, file parts sent raw or with
`Content-Transfer-Encoding: base64`. The parser takes them all and decodes base64 parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP

__all__ = ["Part", "parse_form_data"]


@dataclass(frozen=True)
class Part:
    """One form field: its name, file name (if any), content type and decoded bytes."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_form_data(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body; ValueError when it is not one."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type.lower():
        raise ValueError("the request is not multipart/form-data with a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        raise ValueError("the multipart body has no parts")
    parts: list[Part] = []
    for part in message.iter_parts():
        if not isinstance(part, EmailMessage):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        declared = part.get("content-type")
        parts.append(Part(name, part.get_filename(), part.get_content_type() if declared else None, data))
    return parts
