//! The master against the simulator over TCP loopback: reads by primary and secondary
//! address, multi-telegram reassembly, a scan of 20 meters, a retry after a corrupted reply,
//! a timeout on silence and a collision. Every wait is bounded by the master's timing, and
//! the simulator stops when the test ends.

use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use meterwire::mbus::request::{secondary_address_text, SecondaryAddress};
use meterwire::{decode, to_json, Options};
use meterwire_bus::master::{BusErrorKind, Master, Timing};
use meterwire_bus::scan::{scan_primary, scan_secondary};
use meterwire_bus::simulator::{serve, Faults, SimulatedBus};
use meterwire_bus::transport::TcpTransport;

/// An RSP_UD with a long header (CI 72) from primary `a`: meter `id` (8 BCD digits), KAM,
/// version 1, water, access number 0x2A; records: volume (8-digit BCD, litres → m3 with VIF
/// 13), then, when `more`, DIF 1F (more records follow).
fn rsp_ud(a: u8, id: u32, litres: u32, more: bool) -> Vec<u8> {
    let bcd = |v: u32| -> [u8; 4] {
        let mut out = [0u8; 4];
        let mut v = v;
        for b in &mut out {
            let lo = (v % 10) as u8;
            v /= 10;
            let hi = (v % 10) as u8;
            v /= 10;
            *b = (hi << 4) | lo;
        }
        out
    };
    let mut body = vec![0x08, a, 0x72];
    body.extend_from_slice(&bcd(id));
    body.extend_from_slice(&[0x2D, 0x2C, 0x01, 0x07, 0x2A, 0x00, 0x00, 0x00]);
    body.extend_from_slice(&[0x0C, 0x13]);
    body.extend_from_slice(&bcd(litres));
    if more {
        body.push(0x1F);
    }
    let l = body.len() as u8;
    let mut frame = vec![0x68, l, l, 0x68];
    frame.extend_from_slice(&body);
    frame.push(body.iter().fold(0u8, |s, b| s.wrapping_add(*b)));
    frame.push(0x16);
    frame
}

/// The NDJSON line `meterwire decode` prints for a frame.
fn line(frame: &[u8]) -> String {
    to_json(&decode(frame, &Options::default()).expect("test frames decode"))
}

/// A simulator on a free loopback port, stopped on drop.
struct Sim {
    address: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    bus: Arc<Mutex<SimulatedBus>>,
}

impl Sim {
    fn start(ndjson: &str, faults: Faults) -> Sim {
        let bus = Arc::new(Mutex::new(
            SimulatedBus::from_ndjson(ndjson, faults).expect("the meters load"),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("bound").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (Arc::clone(&bus), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            serve(&listener, &b, &s, &mut |_| {}).expect("the simulator serves");
        });
        Sim {
            address,
            stop,
            thread: Some(thread),
            bus,
        }
    }

    fn master(&self, timing: Timing) -> Master<TcpTransport> {
        let t = TcpTransport::connect(&self.address, Duration::from_secs(2)).expect("connects");
        Master::new(t, timing)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn quick() -> Timing {
    Timing {
        timeout: Duration::from_millis(150),
        retries: 2,
        settle: Duration::from_millis(15),
    }
}

#[test]
fn read_by_primary_and_secondary_address() {
    let meters = [
        line(&rsp_ud(5, 12345678, 1234567, false)),
        line(&rsp_ud(6, 87654321, 42, false)),
    ]
    .join("\n");
    let sim = Sim::start(&meters, Faults::default());
    let mut master = sim.master(quick());
    let readout = master.read_primary(5).expect("meter 5 answers");
    assert_eq!(readout.telegrams.len(), 1);
    let reading = &readout.reading;
    assert_eq!(reading.meter.as_ref().unwrap().id.as_str(), "12345678");
    assert_eq!(reading.records[0].quantity(), "volume");
    assert_eq!(reading.records[0].number().unwrap().to_string(), "1234.567");
    // Printed exactly as `meterwire decode` prints the frame.
    assert_eq!(to_json(reading), line(&readout.telegrams[0].bytes));
    // SND_NKE, REQ_UD2: two exchanges.
    assert_eq!(master.exchanges(), 2);

    let mask = SecondaryAddress::parse("87654321FFFFFFFF").unwrap();
    let readout = master
        .read_secondary(&mask)
        .expect("meter 87654321 answers");
    assert_eq!(
        readout.reading.meter.as_ref().unwrap().id.as_str(),
        "87654321"
    );
    assert_eq!(
        readout.reading.records[0].number().unwrap().to_string(),
        "0.042"
    );
}

#[test]
fn multi_telegram_answers_are_reassembled_with_fcb_toggled() {
    let meters = [
        line(&rsp_ud(7, 11112222, 1000, true)),
        line(&rsp_ud(7, 11112222, 2000, true)),
        line(&rsp_ud(7, 11112222, 3000, false)),
    ]
    .join("\n");
    let sim = Sim::start(&meters, Faults::default());
    assert_eq!(sim.bus.lock().unwrap().meters()[0].telegrams.len(), 3);
    let mut master = sim.master(quick());
    let readout = master.read_primary(7).expect("meter 7 answers");
    assert_eq!(readout.telegrams.len(), 3);
    let values: Vec<String> = readout
        .reading
        .records
        .iter()
        .filter_map(|r| r.number().map(|n| n.to_string()))
        .collect();
    assert_eq!(values, ["1.000", "2.000", "3.000"]);
    assert!(!readout.reading.more_records_follow);
    // Each telegram but the last says more follow. The simulated meter moves on only when the
    // FCB toggles (it repeats a telegram otherwise), so three different values prove the
    // master toggled it: 7B, 5B, 7B.
    let more: Vec<bool> = readout
        .telegrams
        .iter()
        .map(|t| t.decoded.more_records_follow)
        .collect();
    assert_eq!(more, [true, true, false]);
}

#[test]
fn a_corrupted_reply_is_asked_again() {
    let meters = line(&rsp_ud(5, 12345678, 1234567, false));
    // Every second reply is corrupted: SND_NKE's E5 is fine, the first RSP_UD is broken.
    let faults = Faults {
        corrupt_every: Some(2),
        ..Faults::default()
    };
    let sim = Sim::start(&meters, faults);
    let mut master = sim.master(quick());
    let readout = master
        .read_primary(5)
        .expect("the retry gets an intact reply");
    assert_eq!(
        readout.reading.records[0].number().unwrap().to_string(),
        "1234.567"
    );
    // SND_NKE, REQ_UD2 (broken), REQ_UD2 again with the same FCB.
    assert_eq!(master.exchanges(), 3);
}

#[test]
fn silence_times_out_after_the_retries() {
    let meters = line(&rsp_ud(5, 12345678, 1, false));
    let faults = Faults {
        silent: vec!["12345678".to_owned()],
        ..Faults::default()
    };
    let sim = Sim::start(&meters, faults);
    let timing = Timing {
        timeout: Duration::from_millis(60),
        retries: 2,
        settle: Duration::from_millis(10),
    };
    let mut master = sim.master(timing);
    let started = Instant::now();
    let e = master.read_primary(5).expect_err("a silent meter");
    assert_eq!(e.kind, BusErrorKind::Timeout);
    assert_eq!(e.attempts, 3);
    let text = e.to_string();
    assert!(
        text.contains("REQ_UD2 to address 5 (10 7B 05 80 16)"),
        "{text}"
    );
    assert!(text.contains("no reply within 60 ms"), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
    // SND_NKE and REQ_UD2, three attempts each, 60 ms each: well under two seconds.
    assert!(started.elapsed() < Duration::from_secs(2));
    // Nobody listening at all: connection refused, said so.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let refused = TcpTransport::connect(&format!("127.0.0.1:{port}"), Duration::from_secs(1));
    assert!(refused.is_err());
}

#[test]
fn two_meters_selected_at_once_collide() {
    let meters = [
        line(&rsp_ud(1, 12345670, 1, false)),
        line(&rsp_ud(2, 12345679, 2, false)),
    ]
    .join("\n");
    let sim = Sim::start(&meters, Faults::default());
    let mut master = sim.master(quick());
    // Both match 1234567F: their E5s overlap into one, their RSP_UDs into a broken frame.
    let e = master
        .read_secondary(&SecondaryAddress::parse("1234567FFFFFFFFF").unwrap())
        .expect_err("a collision");
    assert_eq!(e.kind, BusErrorKind::BadReply);
    assert!(e.detail().contains("does not verify"), "{e}");
}

#[test]
fn scan_finds_twenty_meters_by_secondary_address() {
    // 20 meters: IDs that share leading digits in groups, so the search must narrow down.
    let ids: Vec<u32> = (0..20u32)
        .map(|i| 10_000_000 + (i % 4) * 1_000_000 + (i / 4) * 11 + i * 100)
        .collect();
    let meters: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| line(&rsp_ud(i as u8 + 1, *id, *id % 1000, false)))
        .collect();
    let sim = Sim::start(&meters.join("\n"), Faults::default());
    let timing = Timing {
        timeout: Duration::from_millis(25),
        retries: 0,
        settle: Duration::from_millis(10),
    };
    let mut master = sim.master(timing);
    let started = Instant::now();
    let mut seen = Vec::new();
    let report = scan_secondary(&mut master, &mut |f| seen.push(f.to_json())).expect("scan");
    let elapsed = started.elapsed();
    let mut found: Vec<String> = report
        .found
        .iter()
        .map(|f| secondary_address_text(&f.secondary.unwrap()))
        .collect();
    found.sort();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("{id:08}2D2C0107")).collect();
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(seen.len(), 20);
    assert!(report.unresolved.is_empty());
    // Digit by digit, the search sends 1 probe for the whole bus plus 10 for every mask
    // under which meters collided: with no retries, exactly that many selects.
    let collided = collided_masks(&expected);
    assert_eq!(report.selects, 1 + 10 * collided);
    // Any search needs at least one select per meter (and one REQ_UD2 to confirm it).
    assert!(report.selects >= 20);
    println!(
        "scan of 20 meters: {} selects ({} masks with a collision), {} exchanges in all, {} ms over loopback",
        report.selects,
        collided,
        report.exchanges,
        elapsed.as_millis()
    );
    // The primary poll finds them too.
    let report = scan_primary(&mut master, 0..=25, &mut |_| {}).expect("poll");
    assert_eq!(report.found.len(), 20);
}

/// The ID-digit masks (prefixes of the IDs, most significant digit first) that more than one
/// meter matches: each costs the search 10 probes.
fn collided_masks(addresses: &[String]) -> usize {
    (0..8)
        .map(|len| {
            let mut prefixes: Vec<&str> = addresses.iter().map(|a| &a[..len]).collect();
            prefixes.sort_unstable();
            let mut groups = 0;
            let mut i = 0;
            while i < prefixes.len() {
                let j = prefixes[i..]
                    .iter()
                    .take_while(|p| **p == prefixes[i])
                    .count();
                if j > 1 {
                    groups += 1;
                }
                i += j;
            }
            groups
        })
        .sum()
}
