"""Typed shapes of meterwire's JSON model (design §2), for type checkers and readers.

These are ``TypedDict``s: at run time the values are plain ``dict``s. Keys that a frame may
omit are optional (``total=False``); optional fields are omitted, never ``None``. ``link``
holds the protocol's own header fields (design §2.2) and is typed as a plain mapping.
"""

from typing import Any, Dict, List, Literal, Optional, Protocol as _Protocol, TypedDict, Union


Data = Union[bytes, bytearray, memoryview, str]
"""A frame: its bytes (any buffer), or hex text parsed by the core."""

Protocol = Literal[
    "auto",
    "mbus",
    "wmbus",
    "cjt188",
    "modbus_rtu",
    "modbus-rtu",
    "modbus_tcp",
    "modbus-tcp",
    "iec62056_21",
    "iec62056-21",
    "coap",
    "mqtt",
]
"""The names the ``protocol`` option takes (any case)."""

Keys = Union[str, bytes, bytearray, Dict[str, str]]
"""The ``keys`` option: one key for every meter — AES-128 (32 hex digits, or 16 bytes) or DES
for security mode 2 (16 hex digits, or 8 bytes) — the text
``"ID=HEX,ID=HEX"``, or a dict meter id (``meter.id``) -> hex key. Keys never appear in
output or error messages."""

OnError = Literal["raise", "skip", "collect"]
"""What ``decode_many`` does with a frame that does not decode."""


class RawRecord(TypedDict, total=False):
    """A record's source bytes in upper-case hex."""

    fill: int
    dif: str
    vif: str
    data: str


class _RecordRequired(TypedDict):
    quantity: str


class Record(_RecordRequired, total=False):
    """One value of a frame (design §2 ``records[]``)."""

    value: Union[float, str]
    exact: str
    unit: str
    unit_text: str
    storage: int
    tariff: int
    subunit: int
    function: str
    label: str
    modifiers: List[str]
    record_error: str
    action: str
    invalid: bool
    dst: bool
    address: Union[int, str]
    raw: RawRecord


class _MeterRequired(TypedDict):
    id: str


class Meter(_MeterRequired, total=False):
    """The meter's identity."""

    manufacturer: str
    manufacturer_code: str
    version: int
    medium: str
    medium_code: str
    access_no: int
    status: int


class Status(TypedDict):
    """The normalised status: the raw value and the flags it means."""

    raw: int
    flags: List[str]


class _ApplicationErrorRequired(TypedDict):
    code: int
    name: str


class ApplicationError(_ApplicationErrorRequired, total=False):
    """An application error reported by the meter (M-Bus CI 70)."""

    detail: str


class Span(TypedDict):
    """One annotated byte range of explain mode."""

    start: int
    end: int
    path: str
    label: str


class _DecodedRequired(TypedDict):
    schema_version: int
    protocol: str
    link: Dict[str, Any]
    records: List[Record]


class Decoded(_DecodedRequired, total=False):
    """One decoded frame: what ``decode`` returns."""

    meter: Meter
    status: Status
    application_error: ApplicationError
    alarm: int
    manufacturer_data: str
    more_records_follow: bool
    application_data: str
    trailing_fill: int
    encrypted: bool
    encrypted_data: str
    payload: "Decoded"
    warnings: List[str]
    spans: List[Span]


class ErrorBody(TypedDict):
    """The body of an error object (design §3)."""

    kind: str
    offset: int
    message: str


class ErrorObject(TypedDict):
    """``{"error": {...}}``: what ``decode_many(on_error="collect")`` puts in a failed frame's place."""

    error: ErrorBody


class StreamFrame(TypedDict):
    """A frame found in a stream, decoded."""

    start: int
    end: int
    frame: Decoded


class StreamError(TypedDict):
    """A frame found in a stream whose decoding failed (offsets count from the stream start)."""

    start: int
    end: int
    error: ErrorBody


class _StreamGarbageRequired(TypedDict):
    start: int
    end: int
    garbage: str
    reason: Literal["noise", "invalid_frame", "truncated", "unsolicited_ack"]


class StreamGarbage(_StreamGarbageRequired, total=False):
    """Bytes of a stream that belong to no frame, as upper-case hex, and why: ``noise``,
    ``invalid_frame`` (a frame's whole structure whose ``kind`` of check failed),
    ``truncated`` (a frame cut off by the end of the stream) or ``unsolicited_ack`` (an
    acknowledgement after a frame that was not a request); ``protocol`` names the family."""

    protocol: str
    kind: str


StreamItem = Union[StreamFrame, StreamError, StreamGarbage]


Reading = Dict[str, Union[float, str]]
"""The flat reading of one frame (design §2.1): ``{"media", "id", "manufacturer",
"protocol", "total_m3", ..., "status", "timestamp"?}``; numbers in the unit of their key."""

Columns = Dict[str, List[Optional[Union[int, float, str]]]]
"""One row per record: ``frame`` (index), ``protocol``, ``meter_id``, ``manufacturer``,
``medium``, ``quantity``, ``value``, ``exact``, ``text``, ``unit``, ``storage``, ``tariff``,
``subunit``, ``function``, ``modifiers``, ``label`` (what a manufacturer layout's value is,
e.g. ``end of january``), ``address`` (a Modbus register number or an OBIS code / DI, as
text); every list has one value per row (``None`` where a record has
none)."""


class ArrowTable(_Protocol):
    """An Arrow table handed over through the Arrow PyCapsule interface: ``pyarrow.table(t)``,
    ``polars.DataFrame(t)``, ``duckdb.sql("... FROM t")`` and (through pyarrow)
    ``pandas`` read it without copying the columns."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...

    @property
    def num_rows(self) -> int: ...


ArrowOnError = Literal["skip", "collect"]
"""What ``readings_arrow`` / ``records_arrow`` do with a frame that does not decode: leave it
out, or keep a row whose ``error`` column is ``{kind, offset, message}``."""

FrameColumn = Any
"""Frames for the Arrow functions: an iterable of bytes-like frames or hex ``str``; an
object with ``__arrow_c_array__`` / ``__arrow_c_stream__`` (pyarrow, polars, arro3) of type
binary, large_binary, binary_view (raw) or string, large_string, string_view (hex); or a
numpy array of dtype ``S`` (fixed-width bytes; trailing NUL padding is dropped, as numpy
reads such values)."""
