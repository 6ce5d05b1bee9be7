//! The Python exceptions of meterwire and the one funnel from the core's `Error` to them.
//!
//! `MeterwireError(ValueError)` carries `.kind`, `.offset`, `.layer` and `.message` copied from
//! the core's error (never re-worded); `str(e)` is the message. One subclass per family.

use meterwire::ErrorKind;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::{intern, PyErr};

create_exception!(
    meterwire,
    MeterwireError,
    PyValueError,
    "A frame that meterwire cannot decode or encode: `.kind` (design §3 vocabulary), `.offset` (byte where the problem was found), `.layer`, `.message`."
);
create_exception!(
    meterwire,
    FrameError,
    MeterwireError,
    "Input or framing problems: empty, hex, truncated, length, start, stop, malformed, unknown_protocol."
);
create_exception!(
    meterwire,
    ChecksumError,
    MeterwireError,
    "A checksum, XOR BCC or CRC that does not match: checksum, crc."
);
create_exception!(
    meterwire,
    SecurityError,
    MeterwireError,
    "Decryption or authentication failed: decrypt, auth."
);
create_exception!(
    meterwire,
    UnsupportedError,
    MeterwireError,
    "Well-formed input using a feature meterwire does not decode: unsupported."
);

/// The exception for a core error: the class of its family with `kind`, `offset`, `layer`
/// and `message` set. Every core error reaches Python through here.
pub fn to_py_err(py: Python<'_>, error: &meterwire::Error) -> PyErr {
    let message = error.to_string();
    let err = match error.kind() {
        ErrorKind::Empty
        | ErrorKind::Hex
        | ErrorKind::Truncated
        | ErrorKind::Length
        | ErrorKind::Start
        | ErrorKind::Stop
        | ErrorKind::Malformed
        | ErrorKind::UnknownProtocol => FrameError::new_err(message.clone()),
        ErrorKind::Checksum | ErrorKind::Crc => ChecksumError::new_err(message.clone()),
        ErrorKind::Decrypt | ErrorKind::Auth => SecurityError::new_err(message.clone()),
        ErrorKind::Unsupported => UnsupportedError::new_err(message.clone()),
        // A kind added to the core later still arrives as the base class.
        _ => MeterwireError::new_err(message.clone()),
    };
    let value = err.value(py);
    let set = value
        .setattr(intern!(py, "kind"), error.kind().as_str())
        .and_then(|()| value.setattr(intern!(py, "offset"), error.offset()))
        .and_then(|()| value.setattr(intern!(py, "layer"), error.layer().as_str()))
        .and_then(|()| value.setattr(intern!(py, "message"), message));
    match set {
        Ok(()) => err,
        Err(e) => e,
    }
}

/// The error object of design §3 as a dict: `{"error": {"kind", "offset", "message"}}`.
pub fn error_dict<'py>(py: Python<'py>, error: &meterwire::Error) -> PyResult<Bound<'py, PyDict>> {
    let outer = PyDict::new(py);
    outer.set_item(intern!(py, "error"), error_body(py, error)?)?;
    Ok(outer)
}

/// `{"kind", "offset", "message"}` of one error.
pub fn error_body<'py>(py: Python<'py>, error: &meterwire::Error) -> PyResult<Bound<'py, PyDict>> {
    let body = PyDict::new(py);
    body.set_item(intern!(py, "kind"), error.kind().as_str())?;
    body.set_item(intern!(py, "offset"), error.offset())?;
    body.set_item(intern!(py, "message"), error.to_string())?;
    Ok(body)
}
