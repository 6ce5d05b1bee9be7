//! CJ/T 188 beyond the vectors: meter simulators that build replies from records, changed
//! values that keep their coding, the DI-order option, streams that mix CJ/T 188, M-Bus and
//! DL/T 645, and detection on frames built to confuse it.

use meterwire::cjt188::request::Request;
use meterwire::model::{
    Cjt188Direction, Cjt188Function, Code16, Code8, Link, Meter, ShortText, Timestamp,
};
use meterwire::{
    decode, decode_stream, detect, encode, encode_json, parse_hex, to_json, Cjt188Link, Decimal,
    Decoded, DiOrder, ErrorKind, Options, Protocol, Record, RecordFields, Status, StreamItem,
    Value,
};

const E2: &str = "FE FE 68 10 78 56 34 12 00 01 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C \
                  00 30 08 15 03 25 20 00 00 6F 16";

fn number(q: &'static str, unit: &'static str, exact: &str, storage: u64) -> RecordFields {
    let mut r = RecordFields::new(q);
    r.unit = Some(unit.into());
    r.value = Some(Value::Number(Decimal::parse(exact).unwrap()));
    r.storage = Some(storage);
    r
}

fn reply(meter_type: u8, di: u16, records: Vec<RecordFields>) -> Decoded {
    let mut d = Decoded::new(
        Protocol::Cjt188,
        Link::Cjt188(Cjt188Link {
            preamble_len: 2,
            meter_type: Code8(meter_type),
            address: ShortText::new("00010012345678").unwrap(),
            direction: Cjt188Direction::SlaveToMaster,
            function: Some(Cjt188Function::ReadData),
            di: Some(Code16(di)),
            ser: Some(1),
            ..Cjt188Link::default()
        }),
    );
    d.records = records.into_iter().map(Record::from).collect();
    d
}

/// A water meter simulator answers 901F with records it made up: the frame is E2 exactly.
#[test]
fn simulator_water_reply_from_records_is_the_digest_frame() {
    let mut time = RecordFields::new("datetime");
    time.value = Some(Value::Time(
        Timestamp::parse("2025-03-15T08:30:00").unwrap(),
    ));
    let mut d = reply(
        0x10,
        0x901F,
        vec![
            number("volume", "m3", "1234.56", 0),
            number("volume", "m3", "1200", 1),
            time,
        ],
    );
    d.status = Some(Status::default());
    assert_eq!(encode(&d).unwrap(), parse_hex(E2).unwrap());
}

/// A heat meter simulator: records without labels follow the heat layout (T = 20H).
#[test]
fn simulator_heat_reply_from_records() {
    let mut time = RecordFields::new("datetime");
    time.value = Some(Value::Time(
        Timestamp::parse("2025-01-20T10:11:12").unwrap(),
    ));
    let mut d = reply(
        0x20,
        0x901F,
        vec![
            number("energy", "kWh", "1234.56", 1),
            number("energy", "kWh", "1250", 0),
            number("power", "kW", "12.34", 0),
            number("volume_flow", "m3/h", "0.5678", 0),
            number("volume", "m3", "345.67", 0),
            number("flow_temperature", "C", "65.43", 0),
            number("return_temperature", "C", "45.21", 0),
            number("operating_time", "h", "12345", 0),
            time,
        ],
    );
    d.link = match d.link {
        Link::Cjt188(mut l) => {
            l.address = ShortText::new("00020087654321").unwrap();
            l.ser = Some(6);
            Link::Cjt188(l)
        }
        other => other,
    };
    d.status = Some(Status::default());
    // Digest §10 E7.
    let e7 = parse_hex(
        "FE FE 68 20 21 43 65 87 00 02 00 81 2E 90 1F 06 56 34 12 00 05 00 50 12 00 05 34 12 00 \
         00 17 78 56 00 00 35 67 45 03 00 2C 43 65 00 21 45 00 45 23 01 12 11 10 20 01 25 20 00 \
         00 91 16",
    )
    .unwrap();
    assert_eq!(encode(&d).unwrap(), e7);
}

/// A changed value is written in its field's coding; the rest of the frame stays as it was.
#[test]
fn a_changed_value_keeps_its_coding() {
    let bytes = parse_hex(E2).unwrap();
    let mut d = decode(&bytes, &Options::default()).unwrap();
    d.records[0].set_value(Some(Value::Number(Decimal::parse("1300.1").unwrap())));
    d.status = Some(meterwire::cjt188::app::status_of(&[0x05, 0x00]));
    let frame = encode(&d).unwrap();
    let back = decode(&frame, &Options::default()).unwrap();
    assert_eq!(back.records[0].number().unwrap().to_string(), "1300.10");
    assert_eq!(back.status.unwrap().raw, 5);
    assert_eq!(frame.len(), bytes.len());
    assert_eq!(frame[..16], bytes[..16]);
    assert_eq!(frame[16..21], [0x10, 0x00, 0x13, 0x00, 0x2C]);

    // A unit code ×10 stays while the unit is unchanged: 12345.6 L at L×10 (2A).
    let gas = parse_hex(
        "FE FE 68 30 01 00 00 00 00 00 00 81 16 90 1F 1C 56 34 12 00 2A 00 00 12 00 2A 00 00 00 \
         01 01 25 20 00 00 44 16",
    )
    .unwrap();
    let mut d = decode(&gas, &Options::default()).unwrap();
    assert_eq!(encode(&d).unwrap(), gas);
    d.records[0].set_value(Some(Value::Number(Decimal::parse("20000").unwrap())));
    let frame = encode(&d).unwrap();
    assert_eq!(frame[16..21], [0x00, 0x00, 0x20, 0x00, 0x2A]);
    // A value finer than the code carries is refused, not rounded.
    d.records[0].set_value(Some(Value::Number(Decimal::parse("20000.05").unwrap())));
    assert_eq!(encode(&d).unwrap_err().kind(), ErrorKind::Malformed);
    // A new unit gets its ×1 code.
    d.records[0].set_value(Some(Value::Number(Decimal::parse("20.5").unwrap())));
    d.records[0].set_unit(Some("m3".into()));
    let frame = encode(&d).unwrap();
    assert_eq!(frame[16..21], [0x50, 0x20, 0x00, 0x00, 0x2C]);
}

/// JSON written by hand: no control (built from function, direction, exception), no raw.
#[test]
fn encode_json_from_a_hand_written_model() {
    let json = r#"{"schema_version":1,"protocol":"cjt188",
        "link":{"meter_type":"0x10","address":"00010012345678","function":"write_data",
                "di":"0xA017","ser":4,"preamble_len":2},
        "records":[{"quantity":"valve","value":"close"}]}"#;
    assert_eq!(
        encode_json(json).unwrap(),
        parse_hex("FE FE 68 10 78 56 34 12 00 01 00 04 04 A0 17 04 99 E9 16").unwrap()
    );
    let json = r#"{"schema_version":1,"protocol":"cjt188",
        "link":{"meter_type":"0x10","address":"00010012345678","direction":"slave_to_master",
                "exception":true,"function":"read_data","ser":5,"preamble_len":2},
        "status":{"raw":3,"flags":[]}}"#;
    assert_eq!(
        encode_json(json).unwrap(),
        parse_hex("FE FE 68 10 78 56 34 12 00 01 00 C1 03 05 03 00 59 16").unwrap()
    );
    // Records out of the layout's order are refused.
    let json = r#"{"schema_version":1,"protocol":"cjt188",
        "link":{"meter_type":"0x10","address":"00010012345678","direction":"slave_to_master",
                "function":"read_data","di":"0x901F","ser":1},
        "records":[{"quantity":"volume","label":"settlement_date_cumulative_flow","exact":"1","unit":"m3"}]}"#;
    assert_eq!(encode_json(json).unwrap_err().kind(), ErrorKind::Malformed);
}

/// The decoded model of every request builder carries the meter and encodes back.
#[test]
fn builders_and_model_agree() {
    let to = Request::to("00010012345678").unwrap();
    let frame = to.with_ser(9).read_data(0x8105).unwrap();
    let d = decode(&frame, &Options::default()).unwrap();
    let link = d.cjt188_link().unwrap();
    assert_eq!(link.di, Some(Code16(0x8105)));
    assert_eq!(link.ser, Some(9));
    assert_eq!(
        d.meter,
        Some(Meter {
            id: ShortText::new("00010012345678").unwrap(),
            medium: Some("cold_water".into()),
            medium_code: Some(Code8(0x10)),
            ..Meter::default()
        })
    );
    assert_eq!(encode(&d).unwrap(), frame);
    let read_address = Request::wildcard(0xAA).read_address().unwrap();
    let d = decode(&read_address, &Options::default()).unwrap();
    assert_eq!(d.meter.as_ref().unwrap().medium, None);
}

/// DIs outside the table: high byte first, or the order the option names; round trip either way.
#[test]
fn di_order_option_for_unknown_dis() {
    let frame = parse_hex("68 10 78 56 34 12 00 01 00 81 06 12 34 1B 01 02 03 3B 16").unwrap();
    let frame = {
        let mut f = frame;
        let n = f.len();
        f[n - 2] = f[..n - 2].iter().fold(0u8, |a, b| a.wrapping_add(*b));
        f
    };
    let d = decode(&frame, &Options::default()).unwrap();
    let link = d.cjt188_link().unwrap();
    assert_eq!(
        (link.di, link.di_order),
        (Some(Code16(0x1234)), Some(DiOrder::HiLo))
    );
    let opts = Options::default().with_cjt188_di_order(Some(DiOrder::LoHi));
    let d = decode(&frame, &opts).unwrap();
    let link = d.cjt188_link().unwrap();
    assert_eq!(
        (link.di, link.di_order),
        (Some(Code16(0x3412)), Some(DiOrder::LoHi))
    );
    assert_eq!(encode(&d).unwrap(), frame);
    // Table DIs are read in the order they match, whatever the option says.
    let e1 = parse_hex("FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 41 16").unwrap();
    let d = decode(&e1, &opts).unwrap();
    assert_eq!(d.cjt188_link().unwrap().di_order, Some(DiOrder::HiLo));
}

/// A capture with garbage, an M-Bus frame, CJ/T 188 frames with and without wake-up bytes, a
/// DL/T 645 frame, a broken CJ/T 188 frame and an `E5` that follows no M-Bus request: every
/// byte lands in one item, in order.
#[test]
fn stream_mixing_protocols() {
    let parts: [(&str, Option<bool>); 7] = [
        ("00 FE", None),
        ("10 7B 05 80 16", Some(true)),
        (E2, Some(true)),
        (
            "68 10 78 56 34 12 00 01 00 01 03 1F 90 02 42 16",
            Some(true),
        ),
        (
            "FE FE FE FE 68 78 56 34 12 00 00 68 11 04 33 33 34 33 C6 16",
            Some(false),
        ),
        (
            "FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 40 16",
            None,
        ),
        ("E5", None),
    ];
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for (hex, frame) in parts {
        let bytes = parse_hex(hex).unwrap();
        let start = stream.len();
        stream.extend_from_slice(&bytes);
        expected.push((start, stream.len(), frame));
    }
    let items = decode_stream(&stream, &Options::default());
    let got: Vec<(usize, usize, Option<bool>)> = items
        .iter()
        .map(|i| match i {
            StreamItem::Frame {
                start, end, result, ..
            } => (*start, *end, Some(result.is_ok())),
            StreamItem::Garbage { start, end, .. } => (*start, *end, None),
        })
        .collect();
    assert_eq!(got, expected);
    let reasons: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Garbage { reason, .. } => Some(reason.as_str()),
            StreamItem::Frame { .. } => None,
        })
        .collect();
    assert_eq!(reasons, ["noise", "invalid_frame", "noise"]);
    let protocols: Vec<Protocol> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Frame { result: Ok(d), .. } => Some(d.protocol),
            _ => None,
        })
        .collect();
    assert_eq!(
        protocols,
        [Protocol::Mbus, Protocol::Cjt188, Protocol::Cjt188,]
    );
    // The DL/T 645 frame is cut and reported, with its stream offset.
    let dlt = items
        .iter()
        .find_map(|i| match i {
            StreamItem::Frame { result: Err(e), .. } => Some(*e),
            _ => None,
        })
        .unwrap();
    assert_eq!(dlt.kind(), ErrorKind::Unsupported);
    assert_eq!(dlt.offset(), expected[4].0 + 4);
}

/// Detection on frames and prefixes built to confuse it.
#[test]
fn detection_tells_the_three_apart() {
    let cases: &[(&str, Result<Protocol, ErrorKind>)] = &[
        // CJ/T 188 to address 00000000006810: 68 10 10 68 …
        (
            "68 10 10 68 00 00 00 00 00 01 03 90 1F 25 C8 16",
            Ok(Protocol::Cjt188),
        ),
        // M-Bus long frame whose bytes read as CJ/T 188 T 15 with a BCD address.
        (
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
            Ok(Protocol::Mbus),
        ),
        // Broken M-Bus frames stay M-Bus, as before.
        ("68 03 03 68 53 01 50 00 16", Ok(Protocol::Mbus)),
        ("68 1F 1F 68", Ok(Protocol::Mbus)),
        ("68 10", Ok(Protocol::Mbus)),
        // CJ/T 188 prefixes and broken frames.
        ("FE FE 68 10 78", Ok(Protocol::Cjt188)),
        ("68 10 78 56 34 12", Ok(Protocol::Cjt188)),
        ("FE", Ok(Protocol::Cjt188)),
        (
            "68 10 78 56 34 12 00 01 00 01 03 1F 90 02 43 16",
            Ok(Protocol::Cjt188),
        ),
        // DL/T 645, whole or broken, with or without wake-up bytes.
        (
            "FE FE FE FE 68 78 56 34 12 00 00 68 11 04 33 33 34 33 C6 16",
            Err(ErrorKind::Unsupported),
        ),
        (
            "68 78 56 34 12 00 00 68 11 04 33 33 34 33 C7 16",
            Err(ErrorKind::Unsupported),
        ),
        ("FE 68 10 00 00 00 00 00 68 91", Err(ErrorKind::Unsupported)),
        // 68 then nothing like any of them.
        ("68 5F 7A 12", Err(ErrorKind::UnknownProtocol)),
    ];
    for (hex, want) in cases {
        let bytes = parse_hex(hex).unwrap();
        let got = detect(&bytes).map_err(|e| e.kind());
        assert_eq!(&got, want, "{hex}");
        if let Err(ErrorKind::Unsupported) = got {
            assert!(detect(&bytes).unwrap_err().to_string().contains("DL/T 645"));
        }
    }
    // The CJ/T 188 frame that starts 68 10 10 68 decodes as what it is.
    let bytes = parse_hex("68 10 10 68 00 00 00 00 00 01 03 90 1F 25 C8 16").unwrap();
    let d = decode(&bytes, &Options::default()).unwrap();
    assert_eq!(d.meter.unwrap().id.as_str(), "00000000006810");
}

/// The flat reading of a CJ/T 188 reply uses the names wmbusmeters users know.
#[test]
fn flat_reading_of_a_water_reply() {
    let d = decode(&parse_hex(E2).unwrap(), &Options::default()).unwrap();
    let r = serde_json::to_string(&meterwire::to_reading(&d, None)).unwrap();
    assert_eq!(
        r,
        r#"{"media":"cold_water","id":"00010012345678","protocol":"cjt188","total_m3":1234.56,"target_m3":1200.0,"meter_datetime":"2025-03-15T08:30:00","status":"VALVE_OPEN"}"#
    );
    assert!(to_json(&d).starts_with(r#"{"schema_version":1,"protocol":"cjt188","link":{"preamble_len":2,"meter_type":"0x10","address":"00010012345678","control":"0x81""#));
}

mod generated {
    use meterwire::{decode, encode, encode_json, to_json, Options, Protocol};
    use proptest::prelude::*;

    /// A CJ/T 188 frame with a valid checksum around arbitrary header and data bytes; DI
    /// bytes are often a table DI (either order) so the layouts get exercised.
    fn frame() -> impl Strategy<Value = Vec<u8>> {
        let dis = prop_oneof![
            Just([0x90u8, 0x1F]),
            Just([0x1F, 0x90]),
            Just([0xD1, 0x25]),
            Just([0x81, 0x05]),
            Just([0x81, 0x0A]),
            Just([0xA0, 0x17]),
            Just([0xA0, 0x14]),
            Just([0x18, 0xA0]),
            any::<[u8; 2]>(),
        ];
        let controls = prop_oneof![
            Just(0x01u8),
            Just(0x81),
            Just(0xC1),
            Just(0x04),
            Just(0x84),
            Just(0xC4),
            Just(0x15),
            Just(0x96),
            Just(0x89),
            Just(0x83),
            any::<u8>(),
        ];
        let types = prop_oneof![Just(0x10u8), Just(0x20), Just(0x30), any::<u8>()];
        (
            0usize..4,
            types,
            any::<[u8; 7]>(),
            controls,
            dis,
            proptest::collection::vec(any::<u8>(), 0..60),
            any::<bool>(),
        )
            .prop_map(|(pre, t, addr, c, di, rest, with_di)| {
                let mut data = Vec::new();
                if with_di {
                    data.extend_from_slice(&di);
                }
                data.extend(rest);
                data.truncate(255);
                let mut f = vec![0xFE; pre];
                f.push(0x68);
                f.push(t);
                f.extend_from_slice(&addr);
                f.push(c);
                f.push(data.len() as u8);
                f.extend(data);
                let cs = f[pre..].iter().fold(0u8, |a, b| a.wrapping_add(*b));
                f.push(cs);
                f.push(0x16);
                f
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Every frame whose link layer verifies decodes (the application layer is lenient),
        /// and encodes back to the same bytes directly and through JSON; spans cover it.
        #[test]
        fn every_checked_frame_round_trips(f in frame()) {
            let opts = Options::default().with_protocol(Some(Protocol::Cjt188)).with_explain(true);
            let d = decode(&f, &opts).unwrap();
            prop_assert_eq!(encode(&d).unwrap(), f.clone());
            prop_assert_eq!(encode_json(&to_json(&d)).unwrap(), f.clone());
            let mut next = 0;
            for s in &d.spans {
                prop_assert_eq!(s.start, next);
                prop_assert!(s.end > s.start);
                next = s.end;
            }
            prop_assert_eq!(next, f.len());
        }
    }
}
