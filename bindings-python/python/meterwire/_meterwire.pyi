"""Stubs of the Rust extension ``meterwire._meterwire`` (re-exported by ``meterwire``)."""

from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .model import (
    ArrowOnError,
    ArrowTable,
    Columns,
    Data,
    Decoded,
    ErrorObject,
    FrameColumn,
    Keys,
    OnError,
    Protocol,
    Reading,
    StreamItem,
)

__all__ = [
    "decode",
    "decode_json",
    "decode_many",
    "decode_stream",
    "Decoder",
    "encode",
    "to_reading",
    "readings",
    "readings_arrow",
    "records_arrow",
    "protocols",
    "MeterwireError",
    "FrameError",
    "ChecksumError",
    "SecurityError",
    "UnsupportedError",
    "SCHEMA_VERSION",
    "ERROR_KINDS",
    "__version__",
]

ModbusProfileSpec = Union[Dict[str, Any], str]
"""A Modbus register profile (``profiles/README.md``): the parsed JSON as a dict, or its text."""

__version__: str
SCHEMA_VERSION: int
ERROR_KINDS: Tuple[str, ...]
"""Every error kind of design §3, in the core's order."""

class MeterwireError(ValueError):
    """A frame meterwire cannot decode. ``str(e)`` is ``e.message``."""

    kind: str
    """One of ``ERROR_KINDS``: ``checksum``, ``truncated``, ..."""
    offset: int
    """The byte where the problem was found (design §3)."""
    layer: str
    """``input``, ``link``, ``application`` or ``security``."""
    message: str
    index: int
    """Only on errors raised by ``decode_many`` and ``readings``: the failing frame's position."""

class FrameError(MeterwireError):
    """empty, hex, truncated, length, start, stop, malformed, unknown_protocol."""

class ChecksumError(MeterwireError):
    """checksum, crc."""

class SecurityError(MeterwireError):
    """decrypt, auth."""

class UnsupportedError(MeterwireError):
    """unsupported."""

def decode(
    data: Data,
    *,
    protocol: Union[Protocol, str] = "auto",
    keys: Optional[Keys] = None,
    explain: bool = False,
    request: Optional[Data] = None,
    modbus_profile: Optional[ModbusProfileSpec] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> Decoded:
    """Decodes one frame into the model (design §2).

    Modbus: ``request`` is the request the frame answers (bytes-like or hex, framed like the
    frame): read responses get register addresses from it. ``modbus_profile`` turns registers
    into values (a dict or JSON text, read by the core; a bad profile raises ``FrameError`` of
    kind ``malformed`` naming the entry). A request that does not fit is a warning.

    Raises ``MeterwireError`` (a subclass per family) when the frame does not decode,
    ``TypeError`` when ``data`` is not bytes-like or str. An unknown ``protocol`` name is a
    ``FrameError`` of kind ``unknown_protocol``. ``keys``: AES-128 (or DES) keys for encrypted
    payloads (see ``Keys``); without one an encrypted payload decodes with
    ``encrypted: True``; a wrong key is a ``SecurityError``. ``explain=True`` adds ``spans``.

    ``redact_key`` (bytes, or hex str; at least 16 bytes; every decoding function takes it):
    meter ids, addresses, device ids and topics become keyed pseudonyms (HMAC-SHA256, 24 hex
    digits, the same for the same id and key) and raw bytes and spans are dropped
    (docs/model.md, "Redaction").
    """

def decode_json(
    data: Data,
    *,
    protocol: Union[Protocol, str] = "auto",
    keys: Optional[Keys] = None,
    explain: bool = False,
    request: Optional[Data] = None,
    modbus_profile: Optional[ModbusProfileSpec] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> str:
    """Decodes one frame into the core's compact JSON text: the same bytes in every runtime."""

def decode_many(
    frames: Iterable[Data],
    *,
    protocol: Union[Protocol, str] = "auto",
    keys: Optional[Keys] = None,
    on_error: OnError = "raise",
    request: Optional[Data] = None,
    modbus_profile: Optional[ModbusProfileSpec] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> List[Union[Decoded, ErrorObject]]:
    """Decodes many frames in order, the GIL released while decoding.

    The frames share one session: a compact wM-Bus frame (CI 79/7B) decodes when an earlier
    frame of the call taught its format signature. ``on_error="raise"`` raises the first
    failing frame's error with ``.index`` set; ``"skip"`` leaves failing frames out;
    ``"collect"`` puts ``{"error": {"kind", "offset", "message"}}`` in their place. An item
    that is not a frame is a ``TypeError`` in every mode.
    """

def decode_stream(
    data: Data,
    *,
    protocol: Union[Protocol, str] = "auto",
    keys: Optional[Keys] = None,
    request: Optional[Data] = None,
    modbus_profile: Optional[ModbusProfileSpec] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> List[StreamItem]:
    """Cuts a byte stream (a serial capture) into frames and garbage.

    Every input byte is in exactly one item, in order:
    ``{"start", "end", "frame": Decoded}`` for a frame that decodes,
    ``{"start", "end", "error": {"kind", "offset", "message"}}`` for a frame whose link layer
    verified but whose content does not decode (``offset`` counts from the stream start),
    ``{"start", "end", "garbage": "<upper-case hex>", "reason", "protocol"?, "kind"?}`` for
    bytes that belong to no frame (``reason``: ``noise``, ``invalid_frame``, ``truncated``,
    ``unsolicited_ack``).
    """

class Decoder:
    """A stateful stream decoder for serial and TCP readers and radio receivers.

    ``feed(data)`` returns the items the bytes completed, in stream order (the items of
    ``decode_stream``); bytes that may begin a frame wait for more (``needed``) instead of
    becoming garbage. It is also the session of one source: compact wM-Bus frames decode
    after their full frame, keys apply per meter, and an ``E5`` is an acknowledgement only
    right after an M-Bus request.
    """

    def __init__(
        self,
        *,
        protocol: Union[Protocol, str] = "auto",
        keys: Optional[Keys] = None,
        explain: bool = False,
        request: Optional[Data] = None,
        modbus_profile: Optional[ModbusProfileSpec] = None,
        mqtt_version: Optional[str] = None,
        payload_cipher: Optional[str] = None,
        tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
        redact_key: Optional[Union[bytes, bytearray, str]] = None,
    ) -> None: ...
    def feed(self, data: Data) -> List[StreamItem]:
        """Adds the next bytes (bytes-like or hex text); returns the items they completed."""
    def finish(self) -> List[StreamItem]:
        """Ends the stream: returns the last items. Feeding again continues the offsets."""
    def decode(self, data: Data) -> Decoded:
        """Decodes one already cut frame in this decoder's session, like ``decode``."""
    def decode_json(self, data: Data) -> str:
        """``decode``'s result as the core's JSON text, in this decoder's session."""
    @property
    def needed(self) -> Optional[int]:
        """Bytes the frame that may begin at the current position still needs, or None."""
    @property
    def pending(self) -> int:
        """Bytes fed but not yet in a returned item."""
    @property
    def position(self) -> int:
        """The stream offset of the next byte to be fed."""

def encode(obj: Decoded, *, keys: Optional[Keys] = None) -> bytes:
    """Encodes a decoded model (a dict as ``decode`` returns it) back to the frame's bytes:
    ``encode(decode(x)) == bytes(x)``. With ``keys``, wM-Bus payloads of security mode 5/7
    are encrypted with the meter's key.

    A dict that is not a model raises ``FrameError`` of kind ``malformed``; a protocol
    without an encoder ``UnsupportedError``; a value that is not JSON-like (a set, NaN, an
    int beyond 64 bits, nesting deeper than 128) ``TypeError`` or ``ValueError``.
    """

def to_reading(
    decoded: Union[Decoded, Data],
    *,
    timestamp: Optional[str] = None,
    protocol: Union[Protocol, str] = "auto",
    keys: Optional[Keys] = None,
    request: Optional[Data] = None,
    modbus_profile: Optional[ModbusProfileSpec] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> Reading:
    """The flat reading of one frame (design §2.1). ``decoded`` is a dict from ``decode``, or
    frame data decoded first with ``protocol`` and ``keys``. ``timestamp``: the reception time
    to add (UTC, ``Z``)."""

def readings(
    frames: Iterable[Union[Decoded, Data]],
    *,
    protocol: Union[Protocol, str] = "auto",
    keys: Optional[Keys] = None,
    request: Optional[Data] = None,
    modbus_profile: Optional[ModbusProfileSpec] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> Columns:
    """Many frames as one columnar table (``pandas.DataFrame(readings(frames))``).

    Each frame is a dict from ``decode`` or frame data (decoded with ``protocol`` and ``keys``
    in one session, as ``decode_many``); the first that does not decode raises its error
    with ``.index`` set. Decoding runs with the GIL released.
    """

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
    (Arrow PyCapsule interface: ``pyarrow.table(t)``, ``polars.DataFrame(t)``, DuckDB).

    Columns: ``frame`` (uint64, the index of the input), ``protocol``, ``id``,
    ``manufacturer``, ``media`` (strings), then every key of the readings in order of first
    appearance: a number is a float64 column ``<key>`` beside ``<key>_exact``, its exact
    decimal text (``"1234.567"``); text keys (``meter_datetime``, ``fabrication_no``, ...) are
    strings. ``status`` is ``list<string>`` of the reading's flags (empty when ``"OK"``);
    ``timestamp`` (``timestamp[us, UTC]``) when ``timestamps`` is given (one per frame:
    aware ``datetime``s, ints in microseconds since the epoch, or an Arrow timestamp array).
    ``on_error="collect"`` keeps failing frames as rows with an ``error`` struct column
    (``kind``, ``offset``, ``message``). Decoding runs with the GIL released, in one session
    (as ``decode_many``), split over ``threads`` threads for large calls (default: the
    machine's cores) unless a compact wM-Bus frame needs the session of the frames before it
    (its full frame in an earlier part).
    ``redact_key`` gives every row as ``to_reading(..., redact_key=...)`` does: ids as keyed
    pseudonyms, for tables shared with third parties."""

def records_arrow(
    frames: FrameColumn,
    *,
    keys: Optional[Keys] = None,
    protocol: Optional[Union[Protocol, str]] = None,
    on_error: ArrowOnError = "skip",
    request: Optional[Data] = None,
    modbus_profile: Optional[Union[Dict[str, Any], str]] = None,
    mqtt_version: Optional[str] = None,
    payload_cipher: Optional[str] = None,
    tlv_schema: Optional[Union[Dict[str, Any], str]] = None,
    redact_key: Optional[Union[bytes, bytearray, str]] = None,
) -> ArrowTable:
    """One row per record as an Arrow table: the columns of ``readings`` (``frame`` is the
    index of the input; ``meter_id``, ``quantity``, ``value`` float64, ``exact``, ``unit``,
    ``storage``, ``tariff``, ``function``, ``address``, ...). ``on_error="collect"`` adds one
    row per failing frame with ``frame`` and an ``error`` struct (``kind``, ``offset``,
    ``message``)."""

def iec62056_21_message(
    **spec: Union[str, int, bool, List[Dict[str, str]]],
) -> bytes:
    """An IEC 62056-21 message built by the core: ``message`` (``sign_on``,
    ``option_select``, ``ack``, ``nak``, ``identification``, ``password``, ``read``,
    ``write``, ``execute``, ``break``, ``error``, ``readout``) and its ``address``,
    ``value``, ``baud``, ``mode``, ``manufacturer``, ``enhanced_id``, ``identification``,
    ``type``, ``data_sets`` (``[{"address", "value", "unit"?}]``), ``parity``. A missing or
    invalid parameter raises ``FrameError`` (``malformed``)."""

def modbus_request(**spec: Union[str, int, bool, List[int], List[bool]]) -> bytes:
    """A Modbus master's request built by the core: ``function`` (the model's
    ``function_name``: ``read_holding_registers``, ``write_single_coil``, …), ``unit``,
    ``framing`` (``"rtu"`` default or ``"tcp"``), ``transaction``, and the function's
    ``start``/``count``, ``address``/``value``/``on``, ``values``, ``coils``, ``code``/
    ``object_id``. A missing or out-of-range parameter raises ``FrameError`` (``malformed``)."""

def protocols() -> List[Dict[str, Union[str, bool]]]:
    """The protocols this build decodes, in the model's order: ``{"name", "title", "encode",
    "detect"}`` each (``encode``: ``encode`` writes it; ``detect``: auto-detection finds it)."""
