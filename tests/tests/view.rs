//! The zero-copy views (`meterwire::mbus::view`, `meterwire::wmbus::view`) read every record
//! exactly where `decode` reads it, and give the same number where the view gives one — on
//! every own vector and every frame of the public corpora they can read.

use meterwire::mbus::link::LongFrame;
use meterwire::mbus::view::{RecordView, Records};
use meterwire::model::Value;
use meterwire::wmbus::view::Telegram;
use meterwire::{decode, parse_hex, Decoded, Keys, Options, Protocol};
use meterwire_conformance::{own_vectors_dir, read_jsonl, shared_vectors_dir};

/// Every (hex, key) of the own vectors and the public corpora.
fn all_frames() -> Vec<(String, String)> {
    let mut files: Vec<_> = ["mbus.jsonl", "wmbus.jsonl"]
        .iter()
        .map(|f| own_vectors_dir().join(f))
        .collect();
    if let Some(dir) = shared_vectors_dir() {
        for f in [
            "mbus-libmbus.jsonl",
            "mbus-pymeterbus.jsonl",
            "mbus-jmbus.jsonl",
            "wmbus-wmbusmeters.jsonl",
            "wmbus-m-bus-parser.jsonl",
        ] {
            if dir.join(f).exists() {
                files.push(dir.join(f));
            }
        }
    }
    files
        .iter()
        .flat_map(|f| read_jsonl(f))
        .filter_map(|l| {
            Some((
                l["hex"].as_str()?.to_string(),
                l["key"].as_str().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

/// Checks the view's records against the model's: same bytes, same numbers.
fn same_records(what: &str, views: Vec<RecordView<'_>>, d: &Decoded) -> usize {
    let owned: Vec<_> = d.records.iter().filter(|r| r.raw().is_some()).collect();
    assert_eq!(views.len(), owned.len(), "{what}: record count");
    let mut numbers = 0;
    for (v, r) in views.iter().zip(&owned) {
        let raw = r.raw().unwrap();
        assert_eq!(v.fill(), raw.fill, "{what}: fill");
        assert_eq!(v.dib(), raw.dif(), "{what}: DIB");
        assert_eq!(v.vib(), raw.vif(), "{what}: VIB");
        assert!(raw.data().ends_with(v.data()), "{what}: data");
        assert_eq!(v.storage(), r.storage().unwrap(), "{what}: storage");
        assert_eq!(v.tariff(), r.tariff().unwrap(), "{what}: tariff");
        assert_eq!(v.subunit(), r.subunit().unwrap(), "{what}: subunit");
        assert_eq!(Some(v.function()), r.function(), "{what}: function");
        if let Some(n) = v.number() {
            match &r.value() {
                Some(Value::Number(m)) => {
                    assert_eq!(n, *m, "{what}: number of {:?}", r.quantity());
                    assert_eq!(v.quantity(), r.quantity(), "{what}: quantity");
                    assert_eq!(v.unit(), r.unit(), "{what}: unit");
                    numbers += 1;
                }
                other => panic!("{what}: the view reads {n}, the model {other:?}"),
            }
        }
    }
    numbers
}

#[test]
fn views_read_what_decode_reads() {
    let (mut wired, mut wireless, mut numbers) = (0usize, 0usize, 0usize);
    for (hex, key) in all_frames() {
        let Ok(bytes) = parse_hex(&hex) else { continue };
        let keys = Keys::parse(&key).unwrap_or(Keys::None);
        // Wired long frames with CI 72 / 7A / 78 (application header of 12 / 4 / 0 bytes).
        if let Ok(frame) = LongFrame::new_checked(bytes.as_slice()) {
            let header = match frame.ci_field() {
                0x72 => 12,
                0x7A => 4,
                0x78 => 0,
                _ => continue,
            };
            let Ok(d) = decode(
                &bytes,
                &Options::default().with_protocol(Some(Protocol::Mbus)),
            ) else {
                continue;
            };
            let Some(data) = frame.user_data().get(header..) else {
                continue;
            };
            let views: Result<Vec<_>, _> = Records::new(data, 7 + header).collect();
            let Ok(views) = views else {
                continue;
            };
            numbers += same_records(&hex, views, &d);
            wired += 1;
            continue;
        }
        // CRC-free wM-Bus telegrams the telegram view reads.
        let Ok(t) = Telegram::new_checked(&bytes) else {
            continue;
        };
        let opts = Options::default()
            .with_protocol(Some(Protocol::Wmbus))
            .with_keys(keys.clone());
        let Ok(d) = decode(&bytes, &opts) else {
            continue;
        };
        if d.encrypted || d.application_data.is_some() {
            continue;
        }
        let mut buf = [0u8; 256];
        let records = match (&keys, t.security_mode()) {
            (_, 0) => t.records(),
            (Keys::One(k), 5) => t.decrypt(k, &mut buf),
            _ => t.records(),
        };
        let Ok(records) = records else { continue };
        let Ok(views) = records.collect::<Result<Vec<_>, _>>() else {
            continue;
        };
        numbers += same_records(&hex, views, &d);
        wireless += 1;
    }
    eprintln!("views agree with decode on {wired} wired and {wireless} wireless frames ({numbers} numbers)");
    // With the public corpora beside the project, hundreds of frames; from a clone alone, the
    // project's own vectors (3 wired and 7 wireless frames the views read).
    let (min_wired, min_wireless) = if shared_vectors_dir().is_some() {
        (30, 20)
    } else {
        (3, 7)
    };
    assert!(
        wired >= min_wired && wireless >= min_wireless,
        "{wired} {wireless}"
    );
}
