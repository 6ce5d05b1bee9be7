"""meterwire: one exact codec for smart water meter wire frames.

The decoding is done by the Rust core; this package only converts types. Every function
accepts a frame as ``bytes``, ``bytearray``, ``memoryview`` or hex text (upper or lower case,
spaces, ``:``/``-`` separators, ``0x`` prefixes), and returns the JSON model of the project's
design (§2) as plain dicts and lists, equal to ``json.loads(decode_json(...))``.
``encode`` turns such a dict back into the frame's bytes; ``to_reading`` and ``readings``
give the flat per-frame view and the columnar table of many frames.

Errors are ``MeterwireError`` (a ``ValueError``) with ``.kind``, ``.offset``, ``.layer`` and
``.message``, raised as one subclass per family: ``FrameError``, ``ChecksumError``,
``SecurityError``, ``UnsupportedError``.
"""

from ._meterwire import (
    ERROR_KINDS,
    SCHEMA_VERSION,
    ChecksumError,
    Decoder,
    FrameError,
    MeterwireError,
    SecurityError,
    UnsupportedError,
    __version__,
    decode,
    decode_json,
    decode_many,
    decode_stream,
    encode,
    iec62056_21_message,
    modbus_request,
    protocols,
    readings,
    to_reading,
)
from .model import (
    ApplicationError,
    Columns,
    Data,
    Decoded,
    ErrorBody,
    ErrorObject,
    Keys,
    Meter,
    OnError,
    Protocol,
    RawRecord,
    Reading,
    Record,
    Span,
    Status,
    StreamError,
    StreamFrame,
    StreamGarbage,
    StreamItem,
)

__all__ = [
    "ERROR_KINDS",
    "SCHEMA_VERSION",
    "ApplicationError",
    "ChecksumError",
    "Columns",
    "Data",
    "Decoded",
    "Decoder",
    "ErrorBody",
    "ErrorObject",
    "FrameError",
    "Keys",
    "Meter",
    "MeterwireError",
    "OnError",
    "Protocol",
    "RawRecord",
    "Reading",
    "Record",
    "SecurityError",
    "Span",
    "Status",
    "StreamError",
    "StreamFrame",
    "StreamGarbage",
    "StreamItem",
    "UnsupportedError",
    "__version__",
    "decode",
    "decode_json",
    "decode_many",
    "decode_stream",
    "encode",
    "iec62056_21_message",
    "modbus_request",
    "protocols",
    "readings",
    "to_reading",
]
