//! The one error type of meterwire: a small `Copy` value with a stable kind, the layer that
//! found the problem and the byte offset where it was found (design §3).

use core::fmt;

/// What went wrong, in the vocabulary every runtime shares (`design.md` §3).
///
/// The string form ([`ErrorKind::as_str`]) is part of the contract: bindings copy it as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No input bytes at all.
    Empty,
    /// Hex text that is not hex (bad digit, odd digit count).
    Hex,
    /// The input ends before the frame does; the offset is the input length.
    Truncated,
    /// Length fields that disagree with each other or with the input.
    Length,
    /// A start byte that is not the protocol's start byte.
    Start,
    /// A stop (end) byte that is not the protocol's stop byte.
    Stop,
    /// An arithmetic checksum or XOR BCC that does not match.
    Checksum,
    /// A CRC that does not match.
    Crc,
    /// Well-formed input using a feature meterwire does not decode.
    Unsupported,
    /// A structure inside a frame that breaks the protocol's rules.
    Malformed,
    /// Decryption with the given key failed (wrong key).
    Decrypt,
    /// A message authentication code did not verify.
    Auth,
    /// Protocol auto-detection found no protocol whose structure fits the input.
    UnknownProtocol,
}

impl ErrorKind {
    /// The stable snake_case name of this kind (`"checksum"`, `"truncated"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Empty => "empty",
            ErrorKind::Hex => "hex",
            ErrorKind::Truncated => "truncated",
            ErrorKind::Length => "length",
            ErrorKind::Start => "start",
            ErrorKind::Stop => "stop",
            ErrorKind::Checksum => "checksum",
            ErrorKind::Crc => "crc",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Malformed => "malformed",
            ErrorKind::Decrypt => "decrypt",
            ErrorKind::Auth => "auth",
            ErrorKind::UnknownProtocol => "unknown_protocol",
        }
    }

    /// Every kind, in declaration order (for bindings that build one host class per kind).
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::Empty,
        ErrorKind::Hex,
        ErrorKind::Truncated,
        ErrorKind::Length,
        ErrorKind::Start,
        ErrorKind::Stop,
        ErrorKind::Checksum,
        ErrorKind::Crc,
        ErrorKind::Unsupported,
        ErrorKind::Malformed,
        ErrorKind::Decrypt,
        ErrorKind::Auth,
        ErrorKind::UnknownProtocol,
    ];
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The layer of the pipeline (design §1) that found the problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Layer {
    /// Reading the caller's input (hex text, empty input, protocol detection).
    Input,
    /// The link layer: framing, lengths, checksums, CRCs.
    Link,
    /// The application layer: headers, records, data identifiers.
    Application,
    /// Decryption and authentication.
    Security,
}

impl Layer {
    /// The stable snake_case name of this layer.
    pub const fn as_str(self) -> &'static str {
        match self {
            Layer::Input => "input",
            Layer::Link => "link",
            Layer::Application => "application",
            Layer::Security => "security",
        }
    }
}

/// What was expected and what was found; [`Error`]'s `Display` turns it into the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Detail {
    /// A fixed sentence.
    Text(&'static str),
    /// An 8-bit sum or XOR check: the byte in the frame and the one computed.
    Checksum {
        /// The check byte carried by the frame.
        found: u8,
        /// The check byte computed over the covered bytes.
        computed: u8,
    },
    /// A 16-bit CRC: the value carried and the value computed.
    Crc {
        /// The CRC carried by the frame.
        found: u16,
        /// The CRC computed over the covered bytes.
        computed: u16,
    },
    /// A delimiter byte (start or stop) that is not the expected one.
    Byte {
        /// What the byte should be.
        expected: u8,
        /// What it is.
        found: u8,
    },
    /// Two length fields that disagree.
    LengthMismatch {
        /// The first length field.
        first: usize,
        /// The second length field.
        second: usize,
    },
    /// The input holds fewer bytes than the structure needs.
    Truncated {
        /// Bytes needed in total.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// Bytes after the end of a complete frame.
    Trailing {
        /// Where the frame ends.
        frame_len: usize,
        /// How many bytes follow it.
        extra: usize,
    },
    /// A structure that needs a number of bytes it did not get.
    Short {
        /// What the structure is.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes there were.
        available: usize,
    },
    /// A count over its limit.
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// A code byte with no defined meaning in this position.
    Code {
        /// What the code is.
        what: &'static str,
        /// Its value.
        value: u8,
    },
    /// A character of hex text that is not a hex digit.
    HexDigit {
        /// The character found.
        found: char,
    },
    /// A Modbus register profile that breaks the profile format.
    Profile {
        /// The index of the entry in `registers`, or `None` for the profile as a whole.
        entry: Option<usize>,
        /// What is wrong.
        what: &'static str,
    },
    /// A length field that disagrees with the frame around it (the frame's checksum and end
    /// byte sit where another length puts them).
    LengthField {
        /// The length the field declares.
        declared: usize,
        /// The length the frame has.
        actual: usize,
    },
}

/// The error returned by every decoding and encoding function.
///
/// It is `Copy`, needs no allocation (so it works without `std`), and carries the stable
/// [`ErrorKind`], the [`Layer`] that found the problem, the byte offset where it was found
/// and a [`Detail`] from which `Display` builds the human message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    layer: Layer,
    offset: usize,
    detail: Detail,
}

impl Error {
    /// An error of `kind` found by `layer` at byte `offset`.
    pub const fn new(kind: ErrorKind, layer: Layer, offset: usize, detail: Detail) -> Self {
        Error {
            kind,
            layer,
            offset,
            detail,
        }
    }

    /// A truncation error: the input (of `available` bytes) ends before `needed` bytes.
    /// Its offset is the input length, as design §3 prescribes.
    pub const fn truncated(layer: Layer, needed: usize, available: usize) -> Self {
        Error::new(
            ErrorKind::Truncated,
            layer,
            available,
            Detail::Truncated { needed, available },
        )
    }

    /// A `malformed` application-layer error: the field `what` at `offset` needs `needed`
    /// bytes and only `available` are left in the frame (whose length is known, so the frame
    /// is wrong, not the input short).
    pub const fn short_field(
        offset: usize,
        what: &'static str,
        needed: usize,
        available: usize,
    ) -> Self {
        Error::new(
            ErrorKind::Malformed,
            Layer::Application,
            offset,
            Detail::Short {
                what,
                needed,
                available,
            },
        )
    }

    /// A `malformed` error of the application layer with a fixed sentence.
    pub const fn malformed(offset: usize, text: &'static str) -> Self {
        Error::new(
            ErrorKind::Malformed,
            Layer::Application,
            offset,
            Detail::Text(text),
        )
    }

    /// An error found by a link layer.
    pub const fn link(kind: ErrorKind, offset: usize, detail: Detail) -> Self {
        Error::new(kind, Layer::Link, offset, detail)
    }

    /// An error about a model given to an encoder (offset 0: there are no input bytes).
    pub const fn model(text: &'static str) -> Self {
        Error::new(
            ErrorKind::Malformed,
            Layer::Application,
            0,
            Detail::Text(text),
        )
    }

    /// The kind of problem.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The layer that found it.
    pub const fn layer(&self) -> Layer {
        self.layer
    }

    /// The byte offset where it was found (design §3 says which byte for each kind).
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// What was expected and what was found.
    pub const fn detail(&self) -> Detail {
        self.detail
    }

    /// The same error with its offset moved by `base` (for a frame found inside a stream).
    pub const fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

impl fmt::Display for Error {
    /// The message of design §3, e.g. `checksum 0x22, computed 0xDD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail {
            Detail::Text(text) => f.write_str(text),
            Detail::Profile {
                entry: Some(i),
                what,
            } => write!(f, "modbus profile registers[{i}]: {what}"),
            Detail::Profile { entry: None, what } => write!(f, "modbus profile: {what}"),
            Detail::Checksum { found, computed } => {
                write!(f, "checksum 0x{found:02X}, computed 0x{computed:02X}")
            }
            Detail::Crc { found, computed } => {
                write!(f, "CRC 0x{found:04X}, computed 0x{computed:04X}")
            }
            Detail::Byte { expected, found } => {
                let what = match self.kind {
                    ErrorKind::Start => "start byte",
                    ErrorKind::Stop => "stop byte",
                    _ => "byte",
                };
                write!(f, "{what} 0x{found:02X}, expected 0x{expected:02X}")
            }
            Detail::LengthMismatch { first, second } => write!(
                f,
                "length fields disagree: first {first} (0x{first:02X}), second {second} (0x{second:02X})"
            ),
            Detail::Truncated { needed, available } => write!(
                f,
                "input ends after {available} byte{}; the frame needs {needed}",
                if available == 1 { "" } else { "s" }
            ),
            Detail::Trailing { frame_len, extra } => write!(
                f,
                "the frame ends after {frame_len} bytes but {extra} more bytes follow"
            ),
            Detail::Short {
                what,
                needed,
                available,
            } => write!(
                f,
                "{what} needs {needed} byte{}, only {available} remain{}",
                if needed == 1 { "" } else { "s" },
                if available == 1 { "s" } else { "" }
            ),
            Detail::TooMany { what, max } => write!(f, "more than {max} {what}"),
            Detail::Code { what, value } => write!(f, "{what} 0x{value:02X}"),
            Detail::HexDigit { found } => write!(f, "not a hex digit: {found:?}"),
            Detail::LengthField { declared, actual } => write!(
                f,
                "length field says {declared} (0x{declared:02X}) data bytes, but the frame's checksum and end byte sit after {actual}"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// The result type of meterwire.
pub type Result<T> = core::result::Result<T, Error>;
