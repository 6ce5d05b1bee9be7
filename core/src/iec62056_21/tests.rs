//! Worked examples of the digest (`iec62056-21.md` §5) and the DSMR 5.0 example telegram.

use alloc::string::ToString;
use alloc::vec::Vec;

use crate::hex::parse_hex;
use crate::model::{Address, Iec62056Message, Timestamp, Value};
use crate::{decode, encode, ErrorKind, Options, Protocol};

pub(super) const DSMR5: &[u8] = include_bytes!("../../tests/data/dsmr5.txt");

fn dec(bytes: &[u8]) -> crate::Decoded {
    let d = decode(bytes, &Options::default()).unwrap();
    assert_eq!(d.protocol, Protocol::Iec62056_21);
    assert_eq!(encode(&d).unwrap(), bytes, "round trip");
    let e = decode(bytes, &Options::default().with_explain(true)).unwrap();
    let mut next = 0;
    for s in &e.spans {
        assert_eq!(s.start, next, "{:?}", e.spans);
        next = s.end;
    }
    assert_eq!(next, bytes.len());
    d
}

#[test]
fn sign_on_with_and_without_address() {
    let d = dec(&parse_hex("2F 3F 21 0D 0A").unwrap());
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(
        (l.message, l.device_address.as_deref()),
        (Iec62056Message::SignOn, Some(""))
    );
    let d = dec(b"/?12345678!\r\n");
    assert_eq!(
        d.iec62056_21_link().unwrap().device_address.as_deref(),
        Some("12345678")
    );
}

#[test]
fn identification_modes() {
    let d = dec(&parse_hex("2F 58 59 5A 35 57 4D 31 30 30 2D 41 31 0D 0A").unwrap());
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(l.manufacturer.as_deref(), Some("XYZ"));
    assert_eq!(
        (l.baud, l.protocol_mode.as_deref()),
        (Some(9600), Some("C"))
    );
    assert_eq!(
        (l.reaction_time_ms_min, l.identification.as_deref()),
        (Some(200), Some("WM100-A1"))
    );
    let d = dec(b"/XYz5\\2WM100-A1\r\n");
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(
        (l.reaction_time_ms_min, l.enhanced_id.as_deref()),
        (Some(20), Some("2"))
    );
    assert_eq!(l.protocol_mode.as_deref(), Some("E"));
    let l = dec(b"/ABCEident\r\n").iec62056_21_link().unwrap().clone();
    assert_eq!(
        (l.baud, l.protocol_mode.as_deref()),
        (Some(9600), Some("B"))
    );
    let l = dec(b"/ABC:ident\r\n").iec62056_21_link().unwrap().clone();
    assert_eq!((l.baud, l.protocol_mode.as_deref()), (None, Some("A")));
}

#[test]
fn option_select_and_acks() {
    let l = dec(&parse_hex("06 30 35 30 0D 0A").unwrap())
        .iec62056_21_link()
        .unwrap()
        .clone();
    assert_eq!(l.message, Iec62056Message::AckOptionSelect);
    assert_eq!(
        (l.baud, l.mode.as_deref()),
        (Some(9600), Some("data_readout"))
    );
    let l = dec(&parse_hex("06 30 35 31 0D 0A").unwrap())
        .iec62056_21_link()
        .unwrap()
        .clone();
    assert_eq!(l.mode.as_deref(), Some("programming"));
    assert_eq!(
        dec(&[0x06]).iec62056_21_link().unwrap().message,
        Iec62056Message::Ack
    );
    assert_eq!(
        dec(&[0x15]).iec62056_21_link().unwrap().message,
        Iec62056Message::Nak
    );
}

/// Digest I7: the readout, BCC 0x13; values checked by hand against the digest's text.
#[test]
fn readout_data_message() {
    let mut frame = b"\x020.0.0(12345678)\r\n8.0(001234.567*m3)\r\n8.1(000012.345*m3)\r\n".to_vec();
    frame.extend_from_slice(b"0.9.1(083000)\r\n0.9.2(250315)\r\n!\r\n\x03\x13");
    let d = dec(&frame);
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(
        (l.message, l.bcc.map(|b| b.0), l.end_mark),
        (Iec62056Message::Data, Some(0x13), true)
    );
    assert_eq!(d.records.len(), 5);
    assert_eq!(d.meter.as_ref().unwrap().id.as_str(), "12345678");
    let r = &d.records[1];
    assert_eq!(r.address(), Some(Address::Text("8.0".into())).as_ref());
    assert_eq!((r.quantity(), r.unit()), ("volume", Some("m3")));
    assert_eq!(r.number().unwrap().to_string(), "1234.567");
    assert_eq!(d.records[2].number().unwrap().to_string(), "12.345");
    assert_eq!(
        d.records[3].value(),
        Some(Value::Time(Timestamp::parse("08:30:00").unwrap())).as_ref()
    );
    assert_eq!(
        d.records[4].value(),
        Some(Value::Time(Timestamp::parse("2025-03-15").unwrap())).as_ref()
    );
    // A wrong BCC is a checksum error at the BCC's offset.
    let n = frame.len();
    frame[n - 1] = 0x14;
    let e = decode(&frame, &Options::default()).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::Checksum, n - 1));
}

#[test]
fn programming_commands() {
    // I8: P0 operand, BCC 'P'.
    let d = dec(&parse_hex("01 50 30 02 28 31 32 33 34 35 36 37 29 03 50").unwrap());
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(
        (l.message, l.command.as_deref(), l.command_type.as_deref()),
        (Iec62056Message::Command, Some("P"), Some("0"))
    );
    assert_eq!(
        d.records[0].value(),
        Some(Value::Text("1234567".into())).as_ref()
    );
    // I9 P1, I10 R1, I12 W1: BCCs computed by hand (XOR after SOH).
    let p1 = dec(b"\x01P1\x02(00000000)\x03\x61");
    assert_eq!(
        p1.iec62056_21_link().unwrap().command_name.as_deref(),
        Some("password")
    );
    let r1 = dec(b"\x01R1\x028.0()\x03\x45");
    assert_eq!(
        r1.records[0].address(),
        Some(Address::Text("8.0".into())).as_ref()
    );
    assert!(r1.records[0].value().is_none());
    let w1 = dec(b"\x01W1\x020.9.1(120000)\x03\x5D");
    assert_eq!(
        w1.records[0].value(),
        Some(Value::Time(Timestamp::parse("12:00:00").unwrap())).as_ref()
    );
    // I11: the read answer, no end line.
    let ans = dec(b"\x02(001234.567*m3)\x03\x68");
    assert_eq!(ans.records[0].number().unwrap().to_string(), "1234.567");
    assert!(!ans.iec62056_21_link().unwrap().end_mark);
    // I13: break.
    let b = dec(&parse_hex("01 42 30 03 71").unwrap());
    assert_eq!(
        b.iec62056_21_link().unwrap().message,
        Iec62056Message::Break
    );
}

#[test]
fn error_message_and_partial_block() {
    let mut e = b"\x02(ER12)\x03".to_vec();
    e.push(crate::iec62056_21::link::bcc(&e[1..]));
    let d = dec(&e);
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(
        (l.message, l.error_text.as_deref()),
        (Iec62056Message::Error, Some("ER12"))
    );
    let mut p = b"\x021.8.0(42*kWh)\r\n\x04".to_vec();
    p.push(crate::iec62056_21::link::bcc(&p[1..]));
    assert!(dec(&p).iec62056_21_link().unwrap().partial);
}

#[test]
fn parity_bits_are_stripped_and_restored() {
    let plain = b"\x01R1\x028.0()\x03\x45";
    let with: Vec<u8> = plain
        .iter()
        .map(|b| crate::iec62056_21::link::with_parity(*b))
        .collect();
    assert_ne!(&with[..], &plain[..]);
    let d = dec(&with);
    assert!(d.iec62056_21_link().unwrap().parity);
    assert_eq!(
        d.records[0].address(),
        Some(Address::Text("8.0".into())).as_ref()
    );
}

/// The DSMR 5.0 P1 companion standard's example telegram. Its printed CRC (EF2F) does not
/// verify over the printed text; the CRC here is CRC-16/ARC computed over it (E47C).
#[test]
fn dsmr5_example_telegram() {
    let d = dec(DSMR5);
    let l = d.iec62056_21_link().unwrap();
    assert_eq!(l.message, Iec62056Message::Dsmr);
    assert_eq!(l.crc.map(|c| c.0), Some(0xE47C));
    assert_eq!(
        (l.manufacturer.as_deref(), l.enhanced_id.as_deref()),
        (Some("ISk"), Some("2"))
    );
    assert_eq!(l.identification.as_deref(), Some("MT382-1000"));
    let m = d.meter.as_ref().unwrap();
    assert_eq!(
        (m.id.as_str(), m.manufacturer.as_ref().unwrap().as_str()),
        ("K8EG004046395507", "ISK")
    );
    let find = |addr: &'static str| {
        d.records
            .iter()
            .filter(move |r| r.address() == Some(&Address::Text(addr.into())))
    };
    let t1 = find("1-0:1.8.1").next().unwrap();
    assert_eq!(
        (t1.quantity(), t1.tariff(), t1.unit()),
        ("energy", Some(1), Some("kWh"))
    );
    assert_eq!(t1.number().unwrap().to_string(), "123456.789");
    let device = find("0-1:24.1.0").next().unwrap();
    assert_eq!(
        (device.quantity(), device.label()),
        ("device_type", Some("gas"))
    );
    let id = find("0-1:96.1.0").next().unwrap();
    assert_eq!(
        id.value(),
        Some(Value::Text("3232323241424344313233343536373839".into())).as_ref()
    );
    let gas: Vec<_> = find("0-1:24.2.1").collect();
    assert_eq!(gas.len(), 2);
    assert_eq!(
        gas[0].value(),
        Some(Value::Time(
            Timestamp::parse("2010-12-09T11:25:00").unwrap()
        ))
        .as_ref()
    );
    assert_eq!((gas[1].quantity(), gas[1].unit()), ("volume", Some("m3")));
    assert_eq!(gas[1].number().unwrap().to_string(), "12785.123");
    let v = find("1-0:32.7.0").next().unwrap();
    assert_eq!(
        (v.quantity(), v.number().unwrap().to_string()),
        ("voltage", "220.1".to_string())
    );
    let log: Vec<_> = find("1-0:99.97.0").collect();
    assert_eq!(log.len(), 6);
    assert_eq!(log[3].number().unwrap().to_string(), "240");
    assert_eq!(log[3].unit(), Some("s"));
    // A changed CRC digit is a crc error at the CRC's first digit.
    let mut bad = DSMR5.to_vec();
    let at = bad.len() - 6;
    bad[at + 3] = b'D';
    let e = decode(&bad, &Options::default()).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::Crc, at));
}

/// CRC-16/ARC agrees with a real meter's telegram CRC (a Landis+Gyr E350, DSMR 4.2,
/// published with its CRC BB2A).
#[test]
fn dsmr_crc_of_a_real_telegram() {
    let t: &[u8] = b"/XMX5LGBBFG1009325446\r\n\r\n1-3:0.2.8(42)\r\n0-0:1.0.0(190905214003S)\r\n0-0:96.1.1(4530303331303033323339343536373136)\r\n1-0:1.8.1(003235.689*kWh)\r\n1-0:1.8.2(006777.240*kWh)\r\n1-0:2.8.1(000000.313*kWh)\r\n1-0:2.8.2(000000.000*kWh)\r\n0-0:96.14.0(0002)\r\n1-0:1.7.0(00.374*kW)\r\n1-0:2.7.0(00.000*kW)\r\n0-0:96.7.21(00003)\r\n0-0:96.7.9(00001)\r\n1-0:99.97.0(1)(0-0:96.7.19)(170117065912W)(0000009606*s)\r\n1-0:32.32.0(00000)\r\n1-0:32.36.0(00000)\r\n0-0:96.13.1()\r\n0-0:96.13.0()\r\n1-0:31.7.0(002*A)\r\n1-0:21.7.0(00.374*kW)\r\n1-0:22.7.0(00.000*kW)\r\n0-1:24.1.0(003)\r\n0-1:96.1.0(4730303139333430333135333730363136)\r\n0-1:24.2.1(190905210000S)(01091.352*m3)\r\n!BB2A\r\n";
    let d = dec(t);
    let gas = d.records.iter().find(|r| r.quantity() == "volume").unwrap();
    assert_eq!(gas.number().unwrap().to_string(), "1091.352");
    let time = d
        .records
        .iter()
        .find(|r| r.address() == Some(&Address::Text("0-1:24.2.1".into())))
        .unwrap();
    assert!(time.dst());
}

/// A DSMR 2.2 telegram (no CRC) with a gas reading on a continuation line; 7E1 parity bits.
#[test]
fn dsmr22_gas_continuation_line() {
    let t: &[u8] = b"/KMP5 KA6U001660297912\r\n\r\n0-0:96.1.1(204B413655303031363630323937393132)\r\n1-0:1.8.1(00185.000*kWh)\r\n0-1:24.1.0(3)\r\n0-1:24.3.0(121030140000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n(00024.123)\r\n!\r\n";
    let d = dec(t);
    assert_eq!(d.iec62056_21_link().unwrap().crc, None);
    let gas = d.records.iter().find(|r| r.quantity() == "volume").unwrap();
    assert_eq!(
        gas.address(),
        Some(Address::Text("0-1:24.3.0".into())).as_ref()
    );
    assert_eq!(gas.number().unwrap().to_string(), "24.123");
    let with: Vec<u8> = t
        .iter()
        .map(|b| crate::iec62056_21::link::with_parity(*b))
        .collect();
    assert!(dec(&with).iec62056_21_link().unwrap().parity);
}

/// A water meter relayed on M-Bus channel 2 of a DSMR meter (device type 007).
#[test]
fn dsmr_relayed_water_meter() {
    let d = dec(include_bytes!("../../tests/data/dsmr5_water.txt"));
    let device = d
        .records
        .iter()
        .find(|r| r.quantity() == "device_type")
        .unwrap();
    assert_eq!(device.label(), Some("water"));
}

#[test]
fn changed_values_are_written_canonically() {
    let mut d = decode(
        b"\x028.0(001234.567*m3)\r\n!\r\n\x03\x6F",
        &Options::default(),
    )
    .unwrap();
    d.records[0].set_value(Some(Value::Number(
        crate::Decimal::parse("1300.5").unwrap(),
    )));
    let out = encode(&d).unwrap();
    let back = decode(&out, &Options::default()).unwrap();
    assert_eq!(back.records[0].number().unwrap().to_string(), "1300.5");
    assert!(out.starts_with(b"\x028.0(1300.5*m3)\r\n!\r\n\x03"));
}

#[test]
fn other_protocols_still_auto_detect() {
    // A wired M-Bus RSP_UD and a CJ/T 188 reply arriving through the optical port.
    let mbus = parse_hex(
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
    )
    .unwrap();
    assert_eq!(crate::detect(&mbus).unwrap(), Protocol::Mbus);
    let cjt = parse_hex("FE FE 68 10 78 56 34 12 00 01 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 00 30 08 15 03 25 20 00 00 6F 16").unwrap();
    assert_eq!(crate::detect(&cjt).unwrap(), Protocol::Cjt188);
    assert_eq!(crate::detect(&[0xE5]).unwrap(), Protocol::Mbus);
    // Modbus RTU of unit 1 is not a command.
    let rtu = parse_hex("01 03 00 00 00 02 C4 0B").unwrap();
    assert_eq!(
        crate::detect(&rtu).unwrap_err().kind(),
        ErrorKind::UnknownProtocol
    );
    // Broken IEC messages are IEC errors.
    let e = decode(b"\x028.0(1)\r\n\x03\x00", &Options::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Checksum);
    let e = decode(b"/?1234", &Options::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Truncated);
}

#[test]
fn streams_cut_messages() {
    let mut stream = b"/?!\r\n/XYZ5WM100-A1\r\n\x06050\r\n".to_vec();
    stream.extend_from_slice(b"\x028.0(001234.567*m3)\r\n!\r\n\x03\x6F");
    stream.extend_from_slice(&parse_hex("10 7B 05 80 16").unwrap());
    stream.extend_from_slice(DSMR5);
    let cut = |opts: &Options| -> Vec<(usize, Option<Protocol>)> {
        crate::decode_stream(&stream, opts)
            .iter()
            .map(|i| match i {
                crate::StreamItem::Frame { start, result, .. } => {
                    (*start, Some(result.as_ref().unwrap().protocol))
                }
                crate::StreamItem::Garbage { start, .. } => (*start, None),
            })
            .collect()
    };
    let iec = Some(Protocol::Iec62056_21);
    // Unnamed, only messages with a check are cut: the data message (BCC), the M-Bus frame
    // and the DSMR telegram (CRC); sign-on, identification and option select are noise.
    assert_eq!(
        cut(&Options::default()),
        [(0, None), (26, iec), (52, Some(Protocol::Mbus)), (57, iec)]
    );
    // Named, every IEC 62056-21 message is cut, and the M-Bus frame is not looked for.
    let named = cut(&Options::default().with_protocol(iec));
    assert_eq!(
        named,
        [
            (0, iec),
            (5, iec),
            (20, iec),
            (26, iec),
            (52, None),
            (57, iec)
        ]
    );
}

#[test]
fn builders_decode_back() {
    use super::request;
    assert_eq!(
        request::sign_on("").unwrap(),
        parse_hex("2F 3F 21 0D 0A").unwrap()
    );
    assert_eq!(
        request::option_select(9600, "data_readout").unwrap(),
        parse_hex("06 30 35 30 0D 0A").unwrap()
    );
    assert_eq!(
        request::option_select(9600, "programming").unwrap(),
        parse_hex("06 30 35 31 0D 0A").unwrap()
    );
    assert_eq!(
        request::password('0', "1234567").unwrap(),
        parse_hex("01 50 30 02 28 31 32 33 34 35 36 37 29 03 50").unwrap()
    );
    assert_eq!(
        request::write("0.9.1", "120000").unwrap(),
        b"\x01W1\x020.9.1(120000)\x03\x5D"
    );
    assert_eq!(
        request::identification("XYz", 9600, Some('2'), "WM100-A1").unwrap(),
        b"/XYz5\\2WM100-A1\r\n"
    );
    assert_eq!(
        request::break_message(),
        parse_hex("01 42 30 03 71").unwrap()
    );
    for m in [
        request::sign_on("12345678").unwrap(),
        request::read("8.0", "").unwrap(),
        request::execute("C.1.0", "1").unwrap(),
        request::error_message("ER01").unwrap(),
        request::readout(&[("8.0", "001234.567", "m3"), ("0.0.0", "1", "")]).unwrap(),
        request::with_parity(request::sign_on("").unwrap()),
        request::ack(),
        request::nak(),
    ] {
        dec(&m);
    }
    assert!(request::sign_on("a!b").is_err());
    assert!(request::option_select(1234, "data_readout").is_err());
    let spec = r#"{"message":"password","type":"1","value":"00000000"}"#;
    assert_eq!(
        request::MessageSpec::build_json(spec).unwrap(),
        b"\x01P1\x02(00000000)\x03\x61"
    );
    let e = request::MessageSpec::build_json(r#"{"message":"x"}"#).unwrap_err();
    assert_eq!((e.kind(), e.offset()), (ErrorKind::Malformed, 0));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ALPHABET: &[u8] = b"a1.(()*\r\n!-:ERWS0 \x00\x7F/\x02\x03";

    fn text() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(ALPHABET), 0..40)
    }

    /// Any data, command or DSMR text under a correct BCC or CRC decodes, encodes back to the
    /// same bytes (also through the JSON text), and its spans cover every byte once.
    fn round_trips(bytes: &[u8]) {
        let Ok(d) = decode(bytes, &Options::default()) else {
            return;
        };
        assert_eq!(encode(&d).unwrap(), bytes, "{d:?}");
        let json = crate::to_json(&d);
        let back = crate::model_from_json(&json).unwrap();
        assert_eq!(encode(&back).unwrap(), bytes, "{json}");
        let e = decode(bytes, &Options::default().with_explain(true)).unwrap();
        let mut next = 0;
        for s in &e.spans {
            assert_eq!(s.start, next);
            next = s.end;
        }
        assert_eq!(next, bytes.len());
    }

    proptest! {
        #[test]
        fn data_blocks_round_trip(block in text(), partial in any::<bool>(), parity in any::<bool>()) {
            let block: Vec<u8> = block.into_iter().filter(|b| *b != 0x02 && *b != 0x03).collect();
            let mut m = alloc::vec![crate::iec62056_21::link::STX];
            m.extend_from_slice(&block);
            m.push(if partial { 0x04 } else { 0x03 });
            m.push(crate::iec62056_21::link::bcc(&m[1..]));
            if parity {
                m = m.iter().map(|b| crate::iec62056_21::link::with_parity(*b)).collect();
            }
            round_trips(&m);
        }

        #[test]
        fn commands_round_trip(c in proptest::sample::select(&b"PWREB"[..]), block in text(), with_data in any::<bool>()) {
            let mut m = alloc::vec![0x01, c, b'1'];
            if with_data {
                m.push(0x02);
                m.extend(block.into_iter().filter(|b| *b != 0x02 && *b != 0x03));
            }
            m.push(0x03);
            m.push(crate::iec62056_21::link::bcc(&m[1..]));
            round_trips(&m);
        }

        #[test]
        fn dsmr_round_trips(body in text(), crc in any::<bool>()) {
            let mut m = b"/ABC5\\2ident\r\n".to_vec();
            m.extend_from_slice(&body);
            m.extend_from_slice(b"\r\n!");
            if crc {
                let c = crate::iec62056_21::link::DSMR_CRC.checksum(&m);
                m.extend_from_slice(alloc::format!("{c:04X}").as_bytes());
            }
            m.extend_from_slice(b"\r\n");
            round_trips(&m);
        }

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..60)) {
            let _ = decode(&bytes, &Options::default().with_protocol(Some(Protocol::Iec62056_21)).with_explain(true));
            let _ = crate::decode_stream(&bytes, &Options::default());
            round_trips(&bytes);
        }
    }
}

/// Found by the fuzzer: a DSMR line holding an ETX character (legal in a telegram) was
/// written from its values instead of its source bytes, losing a line break.
#[test]
fn regression_control_characters_in_dsmr_lines() {
    let t: &[u8] = b"/KMP5 ident\r\n\r\n\x031:24.2.1)(m3)\r\n(00\x13024.123)\r\n!\r\n";
    dec(t);
}

/// Models built without source bytes (front ends, simulators) encode like the builders.
#[test]
fn models_without_raw_encode_like_the_builders() {
    let model = |json: &str| crate::model_from_json(json).unwrap();
    let read = model(
        r#"{"schema_version":1,"protocol":"iec62056_21","link":{"message":"command","command":"R","command_type":"1"},"records":[{"quantity":"other","address":"8.0"}]}"#,
    );
    assert_eq!(
        encode(&read).unwrap(),
        super::request::read("8.0", "").unwrap()
    );
    let sign_on = model(
        r#"{"schema_version":1,"protocol":"iec62056_21","link":{"message":"sign_on","device_address":"12345678"}}"#,
    );
    assert_eq!(
        encode(&sign_on).unwrap(),
        super::request::sign_on("12345678").unwrap()
    );
    let select = model(
        r#"{"schema_version":1,"protocol":"iec62056_21","link":{"message":"ack_option_select","baud":9600,"mode":"programming"}}"#,
    );
    assert_eq!(
        encode(&select).unwrap(),
        super::request::option_select(9600, "programming").unwrap()
    );
    let brk = model(r#"{"schema_version":1,"protocol":"iec62056_21","link":{"message":"break"}}"#);
    assert_eq!(encode(&brk).unwrap(), super::request::break_message());
    let readout = model(
        r#"{"schema_version":1,"protocol":"iec62056_21","link":{"message":"data","end_mark":true},"records":[{"quantity":"volume","exact":"1234.567","unit":"m3","address":"8.0"}]}"#,
    );
    assert_eq!(
        encode(&readout).unwrap(),
        super::request::readout(&[("8.0", "1234.567", "m3")]).unwrap()
    );
    let dsmr = model(
        r#"{"schema_version":1,"protocol":"iec62056_21","link":{"message":"dsmr","manufacturer":"ABC","baud_char":"5","identification":"x","crc":"0x0000"},"records":[{"quantity":"volume","exact":"1.5","unit":"m3","address":"0-1:24.2.1"}]}"#,
    );
    let bytes = encode(&dsmr).unwrap();
    assert!(bytes.starts_with(b"/ABC5x\r\n\r\n0-1:24.2.1(1.5*m3)\r\n!"));
    dec(&bytes);
}
