//! Modbus RTU and Modbus TCP (Modbus Application Protocol V1.1b3, Serial Line V1.02, TCP/IP
//! Implementation Guide V1.0b; GB/T 19582): the register protocol of electromagnetic and
//! ultrasonic water meters on RS-485 and of their gateways.
//!
//! Layers: [`link`] holds the checked views of the RTU ADU `unit PDU CRC_lo CRC_hi` and the
//! TCP ADU `MBAP(7) PDU` with `emit`; [`app`] reads the PDU into the model; [`encode`] writes
//! the model back; [`explain`] annotates every byte; [`request`] builds the requests a master
//! sends (reads, writes, device identification) from a few parameters.
//!
//! ```
//! use meterwire::{decode, parse_hex, Options, Protocol};
//!
//! // Digest M4: unit 17 answers a read of four holding registers.
//! let frame = parse_hex("11 03 08 00 12 D6 87 04 D2 02 37 B5 41")?;
//! let opts = Options::default().with_protocol(Some(Protocol::ModbusRtu));
//! let d = decode(&frame, &opts)?;
//! let link = d.modbus_link().unwrap();
//! assert_eq!((link.unit_id, link.function), (17, 3));
//! assert_eq!(link.registers, [0x0012, 0xD687, 0x04D2, 0x0237]);
//! # Ok::<(), meterwire::Error>(())
//! ```
//!
//! # Mapping into the model
//!
//! * `link` (design §2.2): `unit_id`, `function` (the code without the exception bit),
//!   `function_name` (`read_coils`, `read_discrete_inputs`, `read_holding_registers`,
//!   `read_input_registers`, `write_single_coil`, `write_single_register`,
//!   `write_multiple_coils`, `write_multiple_registers`, `read_write_multiple_registers`,
//!   `read_device_identification`, and the names of the other public codes),
//!   `direction`, `exception`, `exception_code`, `exception_name` (`illegal_function`,
//!   `illegal_data_address`, `illegal_data_value`, `server_device_failure`, `acknowledge`,
//!   `server_device_busy`, `memory_parity_error`, `gateway_path_unavailable`,
//!   `gateway_target_device_failed_to_respond`), then the fields of the PDU's layout:
//!   `start_address`, `quantity`, `byte_count`, `registers` (read responses), `coils`,
//!   `values` (values written). TCP adds `transaction_id`, `protocol_id`, `length`.
//!   Documented additions: `write_start_address`, `write_quantity` (function 17), and for
//!   function 2B/0E `mei_type`, `read_device_id_code`, `object_id` (request),
//!   `conformity_level`, `more_follows`, `next_object_id`, `objects` (`[{id, name?, value |
//!   hex}]`, response).
//! * **Request or response.** A frame does not say which it is; the length decides (digest
//!   §2): e.g. function 03 with 4 data bytes is a request, with `1 + byte_count` bytes a
//!   response. `direction` is `request`, `response` or, for functions 05 and 06, whose
//!   response echoes the request byte for byte, `request_or_echo` — meterwire does not
//!   guess. Where both layouts fit (function 01/02 with 4 data bytes whose first is 3, a
//!   function 17 frame whose lengths happen to agree both ways) the frame is taken as a
//!   request, with a warning. Exception responses (function | 0x80, one exception code) are
//!   `response`.
//! * **Coils.** Read responses (01, 02) keep every bit of their data bytes in `coils` (a
//!   response does not say how many coils were asked for, so the unused high bits of the last
//!   byte are there too); a 0F request keeps `quantity` coils when its byte count is
//!   `ceil(quantity / 8)` and the unused bits are clear, every bit otherwise (with a
//!   warning). Function 05 keeps the raw value in `values` (`0xFF00` on, `0x0000` off) and
//!   the coil in `coils`; another value is a warning.
//! * `records`: one per register or coil value, in wire order: quantity `holding_register`
//!   (03, 06, 10, 17), `input_register` (04), `coil` (01, 05, 0F) or `discrete_input` (02),
//!   `value` the unsigned integer (0/1 for coils), `raw.data` the register's two bytes.
//!   `address` is the register or coil address when the frame itself names it (05, 06 and
//!   the write requests 0F, 10, 17: start address + index). **Read responses have no
//!   `address`**: the response does not carry its start address, and an index written as
//!   `address` would look exactly like a register address, so a consumer could not tell
//!   them apart; the records are in register order, and mapping them to addresses needs the
//!   request (the `request` option, below). Encoding reads `link` only; records are
//!   derived from it.
//! * **The `request` option** ([`pair`], [`crate::Options::with_request`]): the bytes of the
//!   request the frame answers, framed like the frame (RTU with CRC, TCP with MBAP). When the
//!   frame answers it — same unit, same function, on TCP the same transaction id, and a byte
//!   count that fits the request's quantity (`2 × quantity` for registers, `ceil(quantity /
//!   8)` for coils) — the records of a read response (01–04, 17) get `address` = request
//!   start + index, and coil records stop at the quantity asked for (the padding bits stay
//!   in `link.coils`; a set padding bit is a warning). A frame whose direction is ambiguous
//!   is settled as the response: `direction` `response` for a 05/06 echo (a warning when it
//!   differs from the request), the response layout for a frame that fits both. For 0F/10
//!   responses the confirmed start and quantity are checked. A request that does not decode,
//!   decodes as a response, or is not answered by the frame (other unit, function,
//!   transaction, quantity) is a warning starting `request option mismatch:` (or naming the
//!   decoding problem), and the records keep no address: never an error. A frame that is
//!   itself a request ignores the option, with a warning.
//! * **Register profiles** ([`profile`], [`crate::Options::with_modbus_profile`]): a
//!   [`profile::ModbusProfile`] (JSON: `name`, `registers[]` of `quantity`, `label`,
//!   `address`, `kind`, `type`, `word_order`, `scale`, `unit`, `flags`) turns the register
//!   records it covers into one record each — `quantity`, `label`, the exact `value` (integer
//!   × scale; floats as their shortest decimal × scale), `unit`, `address` = the entry's
//!   first register, `raw.data` = the registers' bytes in wire order — in place of the
//!   first register's record. Register records need addresses (from the `request` option for
//!   read responses, from the frame for 06/10/17 writes); without them, a warning and plain
//!   records. An entry with only part of its registers in the frame, and registers that are
//!   not valid BCD or a finite float, are warnings; those registers stay plain. `flags` map
//!   set bits of a u16/u32 status word to the model's `status` flags. Word orders are
//!   defined against the digest's `ABCD` naming in [`profile`]'s docs.
//! * **Unknown content.** Function codes meterwire does not decode (07, 08, 11, 14–16, 18,
//!   user-defined codes) and PDUs whose length fits no layout of their function keep the
//!   data after the function code in `application_data`, with a warning; never an error.
//!
//! # Errors (design §3)
//!
//! * RTU: fewer than 4 bytes → `truncated` at the input length. A CRC that fails: `length`
//!   at the first extra byte when a shorter length the function code allows verifies
//!   (bytes after a frame); `truncated` at the input length when every length the function
//!   code allows is longer than the input; otherwise `crc` at the CRC's first byte.
//! * TCP: shorter than MBAP + function code → `truncated`; a length field counting fewer
//!   bytes than follow → `length` at offset 4; counting more → `length` at offset 4 when the
//!   bytes that follow are a whole PDU by the function code rules, `truncated` at the input
//!   length otherwise.
//! * **`protocol_id` ≠ 0** is a warning, not an error: the frame is decoded as Modbus (the
//!   caller named `modbus_tcp`, or detection would not have chosen it) and the identifier is
//!   kept for the round trip. Auto-detection only commits to protocol identifier 0.
//! * RTU unit addresses 248–255 (reserved) and ADUs over 256 bytes (RTU) or 260 bytes (TCP)
//!   are warnings.
//!
//! # Detection and streams
//!
//! * RTU has no structural signature: it registers no detection step; the caller names
//!   `modbus_rtu`. `decode_stream` with `modbus_rtu` cuts frames by the function code rules
//!   (request and response lengths) where the CRC verifies, and slides one byte otherwise.
//! * TCP is detected only as a [`Stage::Fallback`] after every other family, and only when
//!   the whole input is an ADU: protocol identifier 0, a length field equal to the bytes
//!   after it, and a PDU whose length fits its function (or an exception). So it never takes
//!   a frame another family recognises; a TCP frame whose transaction id starts like
//!   another family's frame (`68`, `10`, `E5`, `FE`, a wM-Bus length) is detected as that
//!   family — name `modbus_tcp` then. `decode_stream` cuts TCP frames only when the caller
//!   names `modbus_tcp`.

pub mod app;
pub mod encode;
pub mod explain;
pub mod link;
pub mod pair;
pub mod profile;
pub mod request;

use alloc::format;
use alloc::vec::Vec;

use crate::error::Result;
use crate::framing::{Lead, Scan, Search, StreamContext};
use crate::model::{Decoded, Link, ModbusLink, Protocol};
use crate::protocol::{Codec, DetectStep, Detection, Framing, Stage};
use crate::Options;
use link::{field, tcp_field, RtuAdu, TcpAdu};

/// The registry entry of Modbus RTU ([`crate::protocol`]): no detection (the caller names
/// the protocol), framed in streams only when named.
pub static CODEC_RTU: Codec = Codec {
    protocol: Protocol::ModbusRtu,
    title: "Modbus RTU",
    detect: &[],
    decode: decode_rtu,
    encode: Some(encode_rtu_model),
    framing: Some(Framing::new(
        Search::OnlyNamed,
        Lead::First(&[]),
        rtu_scan,
        Framing::no_requests,
    )),
};

/// The registry entry of Modbus TCP ([`crate::protocol`]): detected after every other family
/// when the whole input is an ADU with protocol identifier 0.
pub static CODEC_TCP: Codec = Codec {
    protocol: Protocol::ModbusTcp,
    title: "Modbus TCP",
    detect: &[DetectStep::new(Stage::Fallback, detect_tcp)],
    decode: decode_tcp,
    encode: Some(encode_tcp_model),
    framing: Some(Framing::new(
        Search::OnlyNamed,
        Lead::First(&[]),
        tcp_scan,
        Framing::no_requests,
    )),
};

/// A whole TCP ADU: protocol identifier 0, a length field equal to the bytes after it and a
/// PDU whose length fits its function.
fn detect_tcp(bytes: &[u8]) -> Detection {
    (link::tcp_frame_len(bytes) == Some(bytes.len())).then_some(Ok(Protocol::ModbusTcp))
}

/// What starts `rest` in an RTU stream: an ADU of a length the function allows whose CRC
/// verifies, or the beginning of one (the shortest allowed length not there yet).
fn rtu_scan(rest: &[u8], _: &StreamContext) -> Scan {
    if let Some(len) = link::rtu_verified_len(rest) {
        return Scan::Frame(len);
    }
    let pdu = rest.get(link::field::PDU..).unwrap_or(&[]);
    if pdu.is_empty() {
        return Scan::Incomplete(link::field::PDU.saturating_add(1));
    }
    app::adu_lengths(pdu)
        .into_iter()
        .flatten()
        .filter_map(|pdu_len| pdu_len.checked_add(link::field::OVERHEAD))
        .filter(|&len| len > rest.len())
        .min()
        .map_or(Scan::None, Scan::Incomplete)
}

/// What starts `rest` in a TCP stream: an MBAP header with protocol identifier 0 whose length
/// field fits the PDU, or the beginning of one.
fn tcp_scan(rest: &[u8], _: &StreamContext) -> Scan {
    if let Some(len) = link::tcp_frame_len(rest) {
        return Scan::Frame(len);
    }
    let protocol_id = rest.get(tcp_field::PROTOCOL_ID);
    if protocol_id.is_some_and(|id| id != [0, 0]) {
        return Scan::None;
    }
    let length = match rest.get(tcp_field::LENGTH) {
        Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return Scan::Incomplete(tcp_field::MIN_LEN),
    };
    let len = tcp_field::LENGTH_BASE.saturating_add(length);
    if len > rest.len().max(tcp_field::MIN_LEN.saturating_sub(1)) && len <= tcp_field::MAX_LEN {
        Scan::Incomplete(len)
    } else {
        Scan::None
    }
}

fn encode_rtu_model(decoded: &Decoded, _: &Options) -> Result<Vec<u8>> {
    encode::encode_rtu(decoded)
}

fn encode_tcp_model(decoded: &Decoded, _: &Options) -> Result<Vec<u8>> {
    encode::encode_tcp(decoded)
}

/// Decodes the PDU into the model, pairing it with the `request` option when one is given.
/// `decode_request` decodes the request (the same framing as the frame).
fn finish(
    protocol: Protocol,
    mut link: ModbusLink,
    pdu: &[u8],
    mut warnings: Vec<alloc::string::String>,
    opts: &Options,
    decode_request: fn(&[u8], &Options) -> Result<Decoded>,
) -> Decoded {
    let request = opts.request.as_deref().and_then(|bytes| {
        pair::request_link(bytes, protocol, decode_request)
            .map_err(|w| warnings.push(w))
            .ok()
    });
    let answers = request
        .as_ref()
        .is_some_and(|r| pair::answers(r, link.unit_id, pdu.first().copied()));
    let parts = app::decode(pdu, &mut link, answers);
    let mut records = parts.records;
    warnings.extend(parts.warnings);
    if let Some(request) = &request {
        pair::apply(request, &link, &mut records, &mut warnings);
    }
    let mut status = None;
    if let Some(profile) = &opts.modbus_profile {
        profile::apply(profile, &mut records, &mut status, &mut warnings);
    }
    let mut out = Decoded::new(protocol, Link::Modbus(link));
    out.records = records;
    out.status = status;
    out.application_data = parts.application_data;
    out.warnings = warnings;
    out
}

/// Decodes exactly one Modbus RTU ADU.
pub fn decode_rtu(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let adu = RtuAdu::new_checked(bytes)?;
    let mut warnings = Vec::new();
    if adu.unit_id() >= 248 {
        warnings.push(format!(
            "unit address {} is reserved (248-255)",
            adu.unit_id()
        ));
    }
    if bytes.len() > field::MAX_LEN {
        warnings.push(format!(
            "{} bytes: longer than the 256 bytes of an RTU ADU",
            bytes.len()
        ));
    }
    let link = ModbusLink {
        unit_id: adu.unit_id(),
        ..ModbusLink::default()
    };
    let mut out = finish(
        Protocol::ModbusRtu,
        link,
        adu.pdu(),
        warnings,
        opts,
        decode_rtu,
    );
    if opts.explain {
        out.spans = explain::spans(bytes, &out, false);
    }
    Ok(out)
}

/// Decodes exactly one Modbus TCP ADU.
pub fn decode_tcp(bytes: &[u8], opts: &Options) -> Result<Decoded> {
    let adu = TcpAdu::new_checked(bytes)?;
    let mut warnings = Vec::new();
    if adu.protocol_id() != 0 {
        warnings.push(format!(
            "protocol id 0x{:04X} is not Modbus (0x0000)",
            adu.protocol_id()
        ));
    }
    if bytes.len() > tcp_field::MAX_LEN {
        warnings.push(format!(
            "{} bytes: longer than the 260 bytes of a TCP ADU",
            bytes.len()
        ));
    }
    let link = ModbusLink {
        transaction_id: Some(adu.transaction_id()),
        protocol_id: Some(adu.protocol_id()),
        length: Some(adu.length()),
        unit_id: adu.unit_id(),
        ..ModbusLink::default()
    };
    let mut out = finish(
        Protocol::ModbusTcp,
        link,
        adu.pdu(),
        warnings,
        opts,
        decode_tcp,
    );
    if opts.explain {
        out.spans = explain::spans(bytes, &out, true);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::hex::parse_hex;
    use crate::{decode, decode_stream, encode, Options, Protocol, StreamItem};

    #[test]
    fn rtu_stream_is_cut_by_function_code_rules_when_named() {
        // M1, a garbage byte, M2, M7, M5.
        let stream = parse_hex(
            "01 03 00 00 00 02 C4 0B 55 01 03 04 00 00 C1 48 AB 95 01 83 02 C0 F1 01 06 00 0A 00 01 68 08",
        )
        .unwrap();
        let opts = Options::default().with_protocol(Some(Protocol::ModbusRtu));
        let items = decode_stream(&stream, &opts);
        let cuts: Vec<(usize, usize, bool)> = items
            .iter()
            .map(|it| match it {
                StreamItem::Frame {
                    start, end, result, ..
                } => (*start, *end, result.is_ok()),
                StreamItem::Garbage { start, end, .. } => (*start, *end, false),
            })
            .collect();
        assert_eq!(
            cuts,
            [
                (0, 8, true),
                (8, 9, false),
                (9, 18, true),
                (18, 23, true),
                (23, 31, true)
            ]
        );
        // Not named: no Modbus frame is looked for.
        let items = decode_stream(&stream, &Options::default());
        assert!(items
            .iter()
            .all(|it| !matches!(it, StreamItem::Frame { result: Ok(d), .. } if d.protocol == Protocol::ModbusRtu)));
    }

    #[test]
    fn round_trip_and_explain_cover_every_byte() {
        let rtu = Options::default().with_protocol(Some(Protocol::ModbusRtu));
        for hex in [
            "01 03 00 00 00 02 C4 0B",
            "01 2B 0E 01 00 70 77",
            "01 41 DE AD BE EF A6 20",
        ] {
            let bytes = parse_hex(hex).unwrap();
            let d = decode(&bytes, &rtu.clone().with_explain(true)).unwrap();
            assert_eq!(encode(&d).unwrap(), bytes, "{hex}");
            let mut next = 0;
            for s in &d.spans {
                assert_eq!(s.start, next, "{hex}");
                next = s.end;
            }
            assert_eq!(next, bytes.len(), "{hex}");
        }
    }

    fn with_request(protocol: Protocol, request: &str) -> Options {
        Options::default()
            .with_protocol(Some(protocol))
            .with_request(Some(parse_hex(request).unwrap()))
    }

    fn addresses(d: &crate::Decoded) -> Vec<Option<u32>> {
        d.records
            .iter()
            .map(|r| match r.address() {
                Some(crate::model::Address::Number(n)) => Some(*n),
                _ => None,
            })
            .collect()
    }

    fn decode_hex(hex: &str, opts: &Options) -> crate::Decoded {
        decode(&parse_hex(hex).unwrap(), opts).unwrap()
    }

    #[test]
    fn request_gives_read_responses_their_addresses() {
        use crate::model::ModbusDirection;
        let rtu = Protocol::ModbusRtu;
        // M1 asks for 2 holding registers from 0; M2 answers.
        let d = decode_hex(
            "01 03 04 00 00 C1 48 AB 95",
            &with_request(rtu, "01 03 00 00 00 02 C4 0B"),
        );
        assert_eq!(addresses(&d), [Some(0), Some(1)]);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        // Without the request: no addresses.
        let plain = Options::default().with_protocol(Some(rtu));
        assert_eq!(
            addresses(&decode_hex("01 03 04 00 00 C1 48 AB 95", &plain)),
            [None, None]
        );
        // M13 asks for 2 input registers from 0; its response (CRC by script).
        let d = decode_hex(
            "01 04 04 00 00 C1 48 AA 22",
            &with_request(rtu, "01 04 00 00 00 02 71 CB"),
        );
        assert_eq!(addresses(&d), [Some(0), Some(1)]);
        assert!(d.records.iter().all(|r| r.quantity() == "input_register"));
        // M9: 8 coils from 0, coils 0 and 2 set.
        let d = decode_hex(
            "01 01 01 05 91 8B",
            &with_request(rtu, "01 01 00 00 00 08 3D CC"),
        );
        assert_eq!(addresses(&d), (0..8).map(Some).collect::<Vec<_>>());
        let on: Vec<_> = d
            .records
            .iter()
            .map(|r| r.number().unwrap().mantissa())
            .collect();
        assert_eq!(on, [1, 0, 1, 0, 0, 0, 0, 0]);
        // 3 coils asked: the padding bits are no records; a set padding bit is a warning.
        let d = decode_hex(
            "01 01 01 85 90 2B",
            &with_request(rtu, "01 01 00 00 00 03 7C 0B"),
        );
        assert_eq!(addresses(&d), [Some(0), Some(1), Some(2)]);
        assert!(d.warnings.iter().any(|w| w.contains("after the 3 coils")));
        assert_eq!(d.modbus_link().unwrap().coils.len(), 8);
        // T1 / T2 over TCP.
        let d = decode_hex(
            "00 01 00 00 00 07 01 03 04 00 12 D6 87",
            &with_request(Protocol::ModbusTcp, "00 01 00 00 00 06 01 03 00 00 00 02"),
        );
        assert_eq!(addresses(&d), [Some(0), Some(1)]);
        assert_eq!(
            d.modbus_link().unwrap().direction,
            Some(ModbusDirection::Response)
        );
    }

    #[test]
    fn request_settles_the_direction() {
        use crate::model::ModbusDirection;
        let rtu = Protocol::ModbusRtu;
        // `01 01 03 05 00 00`: a request (start 0x0305, quantity 0) or a response of 3 bytes.
        let frame = "01 01 03 05 00 00 2C 4F";
        let alone = decode_hex(frame, &Options::default().with_protocol(Some(rtu)));
        assert_eq!(
            alone.modbus_link().unwrap().direction,
            Some(ModbusDirection::Request)
        );
        // Asked for 24 coils from 0: the response.
        let d = decode_hex(frame, &with_request(rtu, "01 01 00 00 00 18 3C 00"));
        let link = d.modbus_link().unwrap();
        assert_eq!(link.direction, Some(ModbusDirection::Response));
        assert_eq!(link.byte_count, Some(3));
        assert_eq!(d.records.len(), 24);
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert_eq!(encode(&d).unwrap(), parse_hex(frame).unwrap());
        // M5 answered by its echo: `response`, still encodes to the same bytes.
        let m5 = "01 06 00 0A 00 01 68 08";
        let d = decode_hex(m5, &with_request(rtu, m5));
        assert_eq!(
            d.modbus_link().unwrap().direction,
            Some(ModbusDirection::Response)
        );
        assert_eq!(encode(&d).unwrap(), parse_hex(m5).unwrap());
        assert!(d.warnings.is_empty());
        // An echo that differs from the request.
        let d = decode_hex("01 06 00 0A 00 02 28 09", &with_request(rtu, m5));
        assert!(
            d.warnings.iter().any(|w| w.contains("does not echo")),
            "{:?}",
            d.warnings
        );
    }

    #[test]
    fn requests_that_do_not_fit_are_warnings() {
        let rtu = Protocol::ModbusRtu;
        let m2 = "01 03 04 00 00 C1 48 AB 95";
        let cases = [
            // M4 from unit 17 paired with M1 (unit 1).
            (
                "11 03 08 00 12 D6 87 04 D2 02 37 B5 41",
                "01 03 00 00 00 02 C4 0B",
                "unit 1",
            ),
            // M13 (function 04) for a function 03 response.
            (m2, "01 04 00 00 00 02 71 CB", "function 0x04"),
            // M3 asks for 10 registers, M2 holds 2.
            (m2, "01 03 00 00 00 0A C5 CD", "asks for 10 registers"),
            // 8 coils asked, 2 coil bytes answered (CRC by script).
            ("01 01 02 05 00 BA AC", "01 01 00 00 00 08 3D CC", "8 coils"),
            // A bad CRC in the request.
            (m2, "01 03 00 00 00 02 C4 0C", "does not decode"),
            // A response given as the request.
            (m2, m2, "decodes as a response"),
            // The frame is a request itself.
            (
                "01 03 00 00 00 02 C4 0B",
                "01 03 00 00 00 02 C4 0B",
                "itself a request",
            ),
        ];
        for (frame, request, needle) in cases {
            let d = decode_hex(frame, &with_request(rtu, request));
            assert!(
                d.warnings.iter().any(|w| w.contains(needle)),
                "{frame} / {request}: {:?}",
                d.warnings
            );
            assert!(addresses(&d).iter().all(Option::is_none), "{frame}");
        }
        // TCP: another transaction.
        let d = decode_hex(
            "00 01 00 00 00 07 01 03 04 00 12 D6 87",
            &with_request(Protocol::ModbusTcp, "00 02 00 00 00 06 01 03 00 00 00 02"),
        );
        assert!(d.warnings.iter().any(|w| w.contains("transaction 2")));
        assert_eq!(addresses(&d), [None, None]);
    }

    proptest::proptest! {
        /// Any unit and PDU with a correct CRC (RTU) or MBAP (TCP) decodes, whatever the
        /// function and data, and encodes back to the same bytes, directly and via JSON;
        /// explain spans cover every byte.
        #[test]
        fn any_pdu_round_trips(
            unit in proptest::prelude::any::<u8>(),
            function in proptest::sample::select(alloc::vec![
                1u8, 2, 3, 4, 5, 6, 7, 0x0F, 0x10, 0x17, 0x2B, 0x41, 0x83, 0x90, 0xAB,
            ]),
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            tcp in proptest::prelude::any::<bool>(),
        ) {
            let mut pdu = alloc::vec![function];
            pdu.extend_from_slice(&data);
            let bytes = if tcp {
                let mut b = alloc::vec![0x00, 0x2A, 0x00, 0x00];
                b.extend_from_slice(&u16::try_from(pdu.len() + 1).unwrap().to_be_bytes());
                b.push(unit);
                b.extend_from_slice(&pdu);
                b
            } else {
                let mut b = alloc::vec![unit];
                b.extend_from_slice(&pdu);
                let crc = super::link::crc16(&b);
                b.extend_from_slice(&crc.to_le_bytes());
                b
            };
            let protocol = if tcp { Protocol::ModbusTcp } else { Protocol::ModbusRtu };
            let opts = Options::default().with_protocol(Some(protocol)).with_explain(true);
            match decode(&bytes, &opts) {
                Ok(d) => {
                    proptest::prop_assert_eq!(encode(&d).unwrap(), bytes.clone());
                    let json = crate::to_json(&d);
                    proptest::prop_assert_eq!(crate::encode_json(&json).unwrap(), bytes.clone());
                    let mut next = 0;
                    for s in &d.spans {
                        proptest::prop_assert_eq!(s.start, next);
                        next = s.end;
                    }
                    proptest::prop_assert_eq!(next, bytes.len());
                }
                // RTU: a frame that verifies at a shorter allowed length is `length`.
                Err(e) => proptest::prop_assert_eq!(e.kind(), crate::ErrorKind::Length),
            }
        }
    }
}
