"""meterwire: one exact codec for smart water meter wire frames.

The decoding is done by the Rust core; this package only converts types. Every function
accepts a frame as ``bytes``, ``bytearray``, ``memoryview`` or hex text (upper or lower case,
spaces, ``:``/``-`` separators, ``0x`` prefixes), and returns the JSON model of the project's
design (§2) as plain dicts and lists, equal to ``json.loads(decode_json(...))``.
``encode`` turns such a dict back into the frame's bytes; ``to_reading`` and ``readings``
give the flat per-frame view and the columnar table of many frames; ``readings_arrow`` and
``records_arrow`` give them as Arrow tables (one row per frame, one row per record).

Errors are ``MeterwireError`` (a ``ValueError``) with ``.kind``, ``.offset``, ``.layer`` and
``.message``, raised as one subclass per family: ``FrameError``, ``ChecksumError``,
``SecurityError``, ``UnsupportedError``.
"""

import datetime
from typing import Any, Dict, Optional, Union

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
from ._meterwire import readings_arrow as _readings_arrow
from ._meterwire import records_arrow
from .model import (
    ApplicationError,
    ArrowOnError,
    ArrowTable,
    FrameColumn,
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
    "ArrowOnError",
    "ArrowTable",
    "FrameColumn",
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
    "readings_arrow",
    "records_arrow",
    "to_reading",
]


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MICROSECOND = datetime.timedelta(microseconds=1)


def _micros(t: Any) -> Optional[int]:
    """A reception time as microseconds since the epoch (UTC): an aware ``datetime``, an int
    (already microseconds) or ``None``."""
    if t is None or isinstance(t, int):
        return t
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            raise ValueError("timestamps: a datetime must be timezone-aware (UTC)")
        return (t - _EPOCH) // _MICROSECOND
    raise TypeError(f"timestamps: expected datetime, int or None, not {type(t).__name__}")


def readings_arrow(
    frames: FrameColumn,
    *,
    keys: Optional[Keys] = None,
    protocol: Optional[Union[Protocol, str]] = None,
    on_error: ArrowOnError = "skip",
    timestamps: Optional[Any] = None,
    threads: Optional[int] = None,
    request: Optional[Data] = None,
    modbus_profile: Optional[Union[Dict[str, Any], str]] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> ArrowTable:
    """One row per frame: the flat reading (``to_reading``) of every frame as an Arrow table
    through the Arrow PyCapsule interface (``pyarrow.table(t)``, ``polars.DataFrame(t)``,
    DuckDB and, through pyarrow, pandas read it without copying).

    Columns: ``frame`` (uint64, the index of the input), ``protocol``, ``id``,
    ``manufacturer``, ``media`` (strings), then every key of the readings in order of first
    appearance: a number is a float64 column ``<key>`` beside ``<key>_exact``, its exact
    decimal text (``"1234.567"``); text keys (``meter_datetime``, ``fabrication_no``, ...) are
    strings. ``status`` is ``list<string>`` of the reading's flags (empty when the reading
    says ``"OK"``). ``timestamps`` (one per frame: aware ``datetime``s, ints in microseconds
    since the epoch, or an Arrow timestamp array) adds ``timestamp`` (``timestamp[us, UTC]``).
    ``on_error="skip"`` leaves failing frames out; ``"collect"`` keeps them as rows whose
    ``error`` struct column holds ``kind``, ``offset`` and ``message``. Frames are decoded
    with ``keys`` and ``protocol`` in one session (as ``decode_many``) with the GIL released;
    a large call is split over ``threads`` threads (default: the machine's cores; a table of
    one record batch per thread), except when a frame after the first part is wM-Bus, whose
    decoding may need the session of the frames before it. ``redact_key`` gives every row as
    ``to_reading(..., redact_key=...)`` does (ids as keyed pseudonyms), for third parties.
    """
    if (
        timestamps is not None
        and not hasattr(timestamps, "__arrow_c_array__")
        and not hasattr(timestamps, "__arrow_c_stream__")
    ):
        timestamps = [_micros(t) for t in timestamps]
    return _readings_arrow(
        frames,
        keys=keys,
        protocol=protocol,
        on_error=on_error,
        timestamps=timestamps,
        threads=threads,
        request=request,
        modbus_profile=modbus_profile,
        mqtt_version=mqtt_version,
        payload_cipher=payload_cipher,
        tlv_schema=tlv_schema,
        redact_key=redact_key,
    )

