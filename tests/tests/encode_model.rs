//! Encoding from a model: meter simulators build RSP_UD frames from records without raw
//! bytes, or change a decoded value and encode again.

use meterwire::model::{
    Code8, Link, LinkFunction, MbusFrameKind, MbusLink, Meter, ShortText, Timestamp,
};
use meterwire::{
    decode, encode, Decimal, Decoded, Function, Options, Protocol, Record, RecordFields, Value,
};
use proptest::prelude::*;

fn rsp_ud(records: Vec<impl Into<Record>>) -> Decoded {
    let mut d = Decoded::new(
        Protocol::Mbus,
        Link::Mbus(MbusLink {
            kind: MbusFrameKind::Long,
            function: Some(LinkFunction::RspUd),
            a: Some(5),
            ci: Some(Code8(0x72)),
            ..MbusLink::default()
        }),
    );
    d.meter = Some(Meter {
        id: ShortText::new("00012345").unwrap(),
        manufacturer: ShortText::new("KAM"),
        version: Some(1),
        medium: Some("water".into()),
        access_no: Some(9),
        status: Some(0),
        ..Meter::default()
    });
    d.records = records.into_iter().map(Into::into).collect();
    d
}

fn number(q: &'static str, unit: &'static str, m: i128, e: i16, storage: u64) -> RecordFields {
    let mut r = RecordFields::new(q);
    r.unit = Some(unit.into());
    r.value = Some(Value::Number(Decimal::new(m, e).unwrap()));
    r.storage = Some(storage);
    r
}

#[test]
fn simulator_frame_from_records_without_raw() {
    let mut date = RecordFields::new("datetime");
    date.value = Some(Value::Time(Timestamp {
        year: Some(2026),
        month: 11,
        day: 23,
        hour: Some(14),
        minute: Some(35),
        second: None,
    }));
    let model = rsp_ud(vec![
        number("volume", "m3", 1234567, -3, 0),
        number("volume", "m3", 1000, 0, 1),
        number("flow_temperature", "C", 215, -1, 0),
        number("power", "kW", -15, -1, 0),
        date,
    ]);
    let frame = encode(&model).unwrap();
    let back = decode(&frame, &Options::default()).unwrap();
    let values: Vec<String> = back
        .records
        .iter()
        .map(|r| match &r.value() {
            Some(Value::Number(d)) => format!(
                "{} {} {} s{}",
                r.quantity(),
                d,
                r.unit().unwrap_or(""),
                r.storage().unwrap()
            ),
            Some(Value::Time(t)) => format!("{} {t}", r.quantity()),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        values,
        [
            "volume 1234.567 m3 s0",
            "volume 1000 m3 s1",
            "flow_temperature 21.5 C s0",
            "power -1.5 kW s0",
            "datetime 2026-11-23T14:35",
        ]
    );
    assert_eq!(back.meter.as_ref().unwrap().id.as_str(), "00012345");
    // And the frame is stable: encode(decode(frame)) == frame.
    assert_eq!(encode(&back).unwrap(), frame);
}

#[test]
fn a_changed_value_keeps_its_coding() {
    // 8-digit BCD litres (VIF 13) in a decoded frame; change the value and encode.
    let frame = meterwire::parse_hex(
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
    )
    .unwrap();
    let mut d = decode(&frame, &Options::default()).unwrap();
    d.records[0].set_value(Some(Value::Number(Decimal::new(99_999_999, -3).unwrap())));
    let out = encode(&d).unwrap();
    assert_eq!(&out[19..25], &[0x0C, 0x13, 0x99, 0x99, 0x99, 0x99]);
    // More decimals than the VIF carries is an error, not a silent rounding.
    d.records[0].set_value(Some(Value::Number(Decimal::new(12_345_678, -4).unwrap())));
    assert!(encode(&d).is_err());
}

fn family() -> impl Strategy<Value = (&'static str, &'static str, i16, i16)> {
    // quantity, unit, finest exponent, coarsest exponent of its VIF family
    prop_oneof![
        Just(("volume", "m3", -6, 1)),
        Just(("energy", "kWh", -6, 1)),
        Just(("energy", "MJ", -6, 1)),
        Just(("power", "kW", -6, 1)),
        Just(("volume_flow", "m3/h", -6, 1)),
        Just(("flow_temperature", "C", -3, 0)),
        Just(("return_temperature", "C", -3, 0)),
        Just(("temperature_difference", "K", -3, 0)),
        Just(("pressure", "bar", -3, 0)),
        Just(("mass", "kg", -3, 4)),
        Just(("voltage", "V", -9, 6)),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        family(),
        any::<i32>(),
        0u8..=7,
        0u64..5000,
        0u32..16,
        0u32..4,
        0u8..4,
    )
        .prop_map(
            |((q, unit, lo, hi), m, e, storage, tariff, subunit, function)| {
                let e = lo + i16::from(e) % (hi - lo + 1);
                let mut r = number(q, unit, i128::from(m), e, storage);
                r.tariff = Some(tariff);
                r.subunit = Some(subunit);
                r.function = Some(
                    [
                        Function::Instantaneous,
                        Function::Maximum,
                        Function::Minimum,
                        Function::Error,
                    ][usize::from(function)],
                );
                Record::from(r)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Generated records → encode → decode gives the same values; the frame round-trips.
    #[test]
    fn generated_records_round_trip(records in proptest::collection::vec(record(), 0..10)) {
        let model = rsp_ud(records.clone());
        let frame = encode(&model).unwrap();
        let back = decode(&frame, &Options::default()).unwrap();
        prop_assert_eq!(back.records.len(), records.len());
        for (want, got) in records.iter().zip(&back.records) {
            prop_assert_eq!(&want.quantity(), &got.quantity());
            prop_assert_eq!(&want.unit(), &got.unit());
            prop_assert_eq!(want.storage(), got.storage());
            prop_assert_eq!(want.tariff(), got.tariff());
            prop_assert_eq!(want.subunit(), got.subunit());
            prop_assert_eq!(want.function(), got.function());
            let (a, b) = (want.number().unwrap(), got.number().unwrap());
            prop_assert_eq!(a.to_string().parse::<f64>().unwrap(), b.to_string().parse::<f64>().unwrap(), "{} vs {}", a, b);
            prop_assert!(a.checked_add(Decimal::new(-b.mantissa(), b.exponent()).unwrap()).unwrap().mantissa() == 0);
        }
        prop_assert_eq!(encode(&back).unwrap(), frame);
    }
}
