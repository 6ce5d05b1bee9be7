//! Runs the built `meterwire` binary and checks what it prints.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use meterwire::{decode_json, parse_hex, Options};

/// RSP_UD from primary address 5: KAM meter 12345678, volume 1234.567 m3.
const RSP_UD: &str =
    "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16";
/// The same frame with its checksum (byte 25) off by one.
const RSP_UD_BAD_CS: &str =
    "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0E 16";
/// REQ_UD2 to primary address 5.
const REQ_UD2: &str = "10 7B 05 80 16";
/// The single-character acknowledgement.
const ACK: &str = "E5";

/// Runs `meterwire` with `args` and `stdin`.
fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meterwire"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin)
        .expect("stdin takes the bytes");
    child.wait_with_output().expect("the binary runs")
}

/// Runs `meterwire` with `args` and no input.
fn run(args: &[&str]) -> Output {
    run_with_stdin(args, &[])
}

/// Runs `meterwire` with `args`, expects success and returns the trimmed standard output.
fn run_ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(&out).trim().to_string()
}

/// The standard output as text.
fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("the output is UTF-8")
}

/// The `decode_json` text of a hex frame.
fn json_of(hex: &str) -> String {
    decode_json(&parse_hex(hex).expect("valid hex"), &Options::default()).expect("decodes")
}

/// A path for a file of this test in the target's temporary folder.
fn temp_file(name: &str, content: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("meterwire-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("the temporary file is written");
    path
}

/// `bytes` of hex text.
fn bytes(hex: &str) -> Vec<u8> {
    parse_hex(hex).expect("valid hex")
}

#[test]
fn json_is_the_decode_json_text() {
    let out = run(&["decode", RSP_UD, ACK, REQ_UD2]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let expected = format!(
        "{}\n{}\n{}\n",
        json_of(RSP_UD),
        json_of(ACK),
        json_of(REQ_UD2)
    );
    assert_eq!(stdout(&out), expected);
    // ndjson is the same text, and so is any hex spelling.
    let compact = RSP_UD.replace(' ', "").to_lowercase();
    let out = run(&["decode", "--format", "ndjson", &compact]);
    assert_eq!(stdout(&out), format!("{}\n", json_of(RSP_UD)));
}

#[test]
fn a_bad_frame_prints_its_error_and_exits_1() {
    let out = run(&["decode", RSP_UD_BAD_CS, RSP_UD]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let error: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    assert_eq!(error["error"]["kind"], "checksum");
    assert_eq!(error["error"]["offset"], 25);
    assert_eq!(
        lines[0],
        r#"{"error":{"kind":"checksum","offset":25,"message":"checksum 0x0E, computed 0x0D"}}"#
    );
    // The next frame is still decoded.
    assert_eq!(lines[1], json_of(RSP_UD));
}

/// A full wM-Bus frame (CI 78: volume 12.345 m3 as 32-bit integer in L, flow temperature
/// 20 °C) and the compact frame (CI 79) carrying the same data: format signature 0xEAE9 =
/// CRC-16/EN-13757 of the headers `04 13 02 5B`, then the data CRC and the data alone.
const WMBUS_FULL: &str = "14442D2C78563412010778041339300000025B1400";
const WMBUS_COMPACT: &str = "14442D2C78563412010779E9EA20C7393000001400";

#[test]
fn compact_frames_use_the_format_of_an_earlier_argument_or_line() {
    let values = |line: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        v["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| format!("{} {} {}", r["quantity"], r["exact"], r["unit"]))
            .collect()
    };
    let expected = [
        r#""volume" "12.345" "m3""#.to_string(),
        r#""flow_temperature" "20" "C""#.to_string(),
    ];
    // Alone, the compact frame only names its signature.
    let out = run(&["decode", WMBUS_COMPACT]);
    let alone: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(alone["link"]["format_signature"], "0xEAE9");
    assert_eq!(alone["records"], serde_json::json!([]));
    assert_eq!(alone["application_data"], "393000001400");
    // After the full frame, in the same run, it decodes to the same values.
    let out = run(&["decode", WMBUS_FULL, WMBUS_COMPACT]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(values(lines[0]), expected);
    assert_eq!(values(lines[1]), expected);
    // The same across the lines of a file.
    let path = temp_file(
        "compact.txt",
        format!("{WMBUS_FULL}\n{WMBUS_COMPACT}\n").as_bytes(),
    );
    let out = run(&["decode", "--file", path.to_str().expect("UTF-8 path")]);
    assert_eq!(
        values(stdout(&out).lines().nth(1).expect("two lines")),
        expected
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn bad_hex_is_a_hex_error() {
    let out = run(&["decode", "68 1G"]);
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(error["error"]["kind"], "hex");
    assert_eq!(error["error"]["offset"], 4);
}

#[test]
fn file_of_hex_lines() {
    let text = format!("# two frames and a comment\n{RSP_UD}\n\n  {REQ_UD2}  \r\n");
    let path = temp_file("lines.txt", text.as_bytes());
    let out = run(&["decode", "--file", path.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!("{}\n{}\n", json_of(RSP_UD), json_of(REQ_UD2))
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn file_of_binary_bytes_is_one_frame() {
    let path = temp_file("frame.bin", &bytes(RSP_UD));
    let out = run(&["decode", "-f", path.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(stdout(&out), format!("{}\n", json_of(RSP_UD)));
    let _ = std::fs::remove_file(path);
}

/// The stream item of a frame at `start` of a capture: `{"start","end","frame":…}`.
fn frame_item(start: usize, hex: &str) -> String {
    let end = start + bytes(hex).len();
    format!(
        r#"{{"start":{start},"end":{end},"frame":{}}}"#,
        json_of(hex)
    )
}

#[test]
fn stream_cuts_garbage_and_frames() {
    // 00 FF, the RSP_UD (27 bytes), AA, the REQ_UD2 (5 bytes).
    let mut capture = vec![0x00, 0xFF];
    capture.extend(bytes(RSP_UD));
    capture.push(0xAA);
    capture.extend(bytes(REQ_UD2));
    let path = temp_file("capture.bin", &capture);
    let out = run(&[
        "decode",
        "--file",
        path.to_str().expect("UTF-8 path"),
        "--stream",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let expected = [
        r#"{"start":0,"end":2,"garbage":"00FF","reason":"noise"}"#.to_owned(),
        frame_item(2, RSP_UD),
        r#"{"start":29,"end":30,"garbage":"AA","reason":"noise"}"#.to_owned(),
        frame_item(30, REQ_UD2),
    ];
    assert_eq!(stdout(&out), format!("{}\n", expected.join("\n")));

    // The same capture from standard input.
    let out = run_with_stdin(&["decode", "--file", "-", "--stream"], &capture);
    assert_eq!(stdout(&out), format!("{}\n", expected.join("\n")));
    // And followed through a pipe.
    let out = run_with_stdin(&["decode", "--file", "-", "--follow"], &capture);
    assert_eq!(stdout(&out), format!("{}\n", expected.join("\n")));
    let _ = std::fs::remove_file(path);
}

#[test]
fn stream_reports_a_broken_frame_with_its_stream_offset() {
    // A frame whose link layer verifies but whose record is cut short, after 2 bytes of noise.
    let mut capture = vec![0x00, 0x11];
    capture.extend(bytes(
        "68 13 13 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 04 00 00 0C 13 67 45 ED 16",
    ));
    let out = run_with_stdin(&["decode", "--file", "-", "--stream"], &capture);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"start":0,"end":2,"garbage":"0011","reason":"noise"}"#
    );
    let error: serde_json::Value = serde_json::from_str(lines[1]).expect("JSON");
    assert_eq!(
        (error["start"].as_u64(), error["end"].as_u64()),
        (Some(2), Some(27))
    );
    assert_eq!(error["error"]["kind"], "malformed");
    assert_eq!(error["error"]["offset"], 23);
}

/// A text capture as loggers write it: timestamps, direction words and comments around the
/// hex of each line.
#[test]
fn text_captures_skip_log_prefixes() {
    let log = format!(
        "# bus log\n\
         2026-12-06T10:00:01.250Z TX: {REQ_UD2}\n\
         [10:00:01] <- {RSP_UD}   # the reply\n\
         10:00:02 RX E5\n"
    );
    let path = temp_file("bus.log", log.as_bytes());
    let file = path.to_str().expect("UTF-8 path");
    // One frame per line.
    let out = run(&["decode", "--file", file]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!(
            "{}\n{}\n{}\n",
            json_of(REQ_UD2),
            json_of(RSP_UD),
            json_of(ACK)
        )
    );
    // As one stream: the E5 follows an RSP_UD, not a request, so it is garbage.
    let out = run(&["decode", "--file", file, "--stream"]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], frame_item(0, REQ_UD2));
    assert_eq!(lines[1], frame_item(5, RSP_UD));
    assert_eq!(
        lines[2],
        r#"{"start":32,"end":33,"garbage":"E5","reason":"unsolicited_ack","protocol":"mbus"}"#
    );
    let _ = std::fs::remove_file(path);
}

/// `--follow` tells a hex log from a capture as a whole file is told: an IEC 62056-21
/// optical-head session is printable text but no hex, so it is read as bytes, not as lines
/// of hex; a hex log is read line by line, its comments skipped.
#[test]
fn follow_reads_printable_sessions_as_bytes_and_hex_logs_as_lines() {
    // Sign-on request and the meter's identification, as an optical head delivers them.
    let session = b"/?!\r\n/ISK5MT174-0001\r\n";
    let out = run_with_stdin(
        &[
            "decode",
            "--file",
            "-",
            "--follow",
            "--protocol",
            "iec62056_21",
        ],
        session,
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let items: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    let ranges: Vec<(u64, u64)> = items
        .iter()
        .map(|i| (i["start"].as_u64().unwrap(), i["end"].as_u64().unwrap()))
        .collect();
    assert_eq!(ranges, [(0, 5), (5, 22)], "{items:?}");
    assert_eq!(items[0]["frame"]["protocol"], "iec62056_21");
    assert_eq!(
        items[1]["frame"]["link"]["identification"], "MT174-0001",
        "{items:?}"
    );

    // A hex log with a comment line first: text, one frame per line.
    let log = format!("# bus log\n{REQ_UD2}\n{ACK}\n");
    let out = run_with_stdin(&["decode", "--file", "-", "--follow"], log.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        stdout(&out),
        format!("{}\n{}\n", frame_item(0, REQ_UD2), frame_item(5, ACK))
    );
}

/// `--follow` prints a frame as soon as its last byte arrives, before the input ends.
#[test]
fn follow_prints_items_as_they_complete() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let mut child = Command::new(env!("CARGO_BIN_EXE_meterwire"))
        .args(["decode", "--file", "-", "--follow"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("UTF-8 output")).is_err() {
                break;
            }
        }
    });
    let frame = bytes(REQ_UD2);
    // The frame in two pieces: nothing is printed after the first.
    stdin.write_all(&frame[..2]).expect("write");
    stdin.flush().expect("flush");
    assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    stdin.write_all(&frame[2..]).expect("write");
    stdin.flush().expect("flush");
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the frame is printed while the pipe is still open");
    assert_eq!(line, frame_item(0, REQ_UD2));
    // The acknowledgement of the request, then the end of the pipe.
    stdin.write_all(&[0xE5]).expect("write");
    drop(stdin);
    let line = rx.recv_timeout(Duration::from_secs(10)).expect("the E5");
    assert_eq!(line, frame_item(5, ACK));
    assert!(child.wait().expect("the binary ends").success());
    reader.join().expect("the reader ends");
}

#[test]
fn table_shows_the_meter_and_its_values() {
    let out = run(&["decode", "--format", "table", RSP_UD]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("mbus long RSP_UD"), "{text}");
    assert!(text.contains("meter 12345678"), "{text}");
    assert!(text.contains("manufacturer KAM"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("volume"))
        .expect("a volume row");
    assert!(row.contains("1234.567"), "{row}");
    assert!(row.contains("m3"), "{row}");
    assert!(row.contains("instantaneous"), "{row}");
}

#[test]
fn table_points_at_the_bad_byte() {
    let out = run(&["decode", "--format", "table", RSP_UD_BAD_CS]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("error: checksum at byte 25: checksum 0x0E, computed 0x0D"),
        "{text}"
    );
    // Byte 25 is the 10th of the second row of 16: the caret sits under its digits.
    let lines: Vec<&str> = text.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.trim_start().starts_with("16 "))
        .expect("the second hex row");
    let caret = lines[row + 1].find('^').expect("a caret line");
    assert_eq!(lines[row].get(caret..caret + 2), Some("0E"), "{text}");
}

#[test]
fn csv_has_a_header_and_a_row_per_record() {
    let out = run(&["decode", "--format", "csv", RSP_UD, ACK, RSP_UD_BAD_CS]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "frame,protocol,meter_id,manufacturer,medium,quantity,value,exact,unit,storage,tariff,subunit,function,modifiers,label,error",
            "1,mbus,12345678,KAM,water,volume,1234.567,1234.567,m3,0,0,0,instantaneous,,,",
            "2,mbus,,,,,,,,,,,,,,",
            "3,,,,,,,,,,,,,,,\"checksum at byte 25: checksum 0x0E, computed 0x0D\"",
        ]
    );
}

#[test]
fn unknown_protocol_option_is_a_usage_error() {
    let out = run(&["decode", "--protocol", "zigbee", ACK]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // The hyphen spelling of a protocol is accepted: an M-Bus ACK is no IEC 62056-21 message.
    let out = run(&["decode", "--protocol", "iec62056-21", ACK]);
    assert_eq!(out.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(error["error"]["kind"], "start");
}

#[test]
fn help_explains_the_formats() {
    let out = run(&["decode", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needle in [
        "--file",
        "--stream",
        "--protocol",
        "--format",
        "ndjson",
        "Examples",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[test]
fn explain_prints_every_field() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meterwire"))
        .args([
            "explain",
            "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("records[0].value            1234.567 m3"),
        "{text}"
    );
    assert!(
        text.contains("meter.manufacturer          manufacturer KAM (0x2C2D)"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 20, "{text}");
}

#[test]
fn explain_marks_the_bad_byte() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meterwire"))
        .args(["explain", "10 7B 05 81 16"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("error: checksum at byte 3: checksum 0x81, computed 0x80"),
        "{text}"
    );
    assert!(text.contains("         ^^"), "{text}");
}

#[test]
fn encode_builds_requests_and_frames_from_json() {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_meterwire"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(
        run(&["encode", "mbus", "req-ud2", "--address", "5", "--fcb"]),
        "10 7B 05 80 16"
    );
    assert_eq!(
        run(&["encode", "mbus", "snd-nke", "-a", "253"]),
        "10 40 FD 3D 16"
    );
    // mbus-tables.md §14.1: ID 12345678, KAM, version 1, water.
    assert_eq!(
        run(&[
            "encode",
            "mbus",
            "select",
            "--id",
            "12345678",
            "--manufacturer",
            "KAM",
            "--version",
            "1",
            "--medium",
            "0x07"
        ]),
        "68 0B 0B 68 53 FD 52 78 56 34 12 2D 2C 01 07 17 16"
    );
    assert_eq!(
        run(&["encode", "mbus", "set-address", "-a", "254", "--new", "8"]),
        "68 06 06 68 53 FE 51 01 7A 08 25 16"
    );
    let json = run(&[
        "decode",
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 67 45 23 01 0D 16",
    ]);
    let changed = json.replace("\"exact\":\"1234.567\"", "\"exact\":\"2000.001\"");
    let frame = run(&["encode", "json", &changed]);
    assert_eq!(
        frame,
        "68 15 15 68 08 05 72 78 56 34 12 2D 2C 01 07 2A 00 00 00 0C 13 01 00 00 02 40 16"
    );
}

/// `meterwire encode cjt188 …` builds the digest's requests; decode, table, explain and
/// `encode json` handle CJ/T 188 frames; a DL/T 645 frame is `unsupported`.
#[test]
fn cjt188_requests_and_frames() {
    let a = "00010012345678";
    let cases: [(&[&str], &str); 9] = [
        (
            &["read-data", "-a", a, "--di", "901F", "--ser", "1"],
            "FE FE 68 10 78 56 34 12 00 01 00 01 03 90 1F 01 41 16",
        ),
        (
            &[
                "read-data",
                "-a",
                a,
                "--di",
                "0x901F",
                "--ser",
                "2",
                "--di-order",
                "lo-hi",
                "--preamble",
                "0",
            ],
            "68 10 78 56 34 12 00 01 00 01 03 1F 90 02 42 16",
        ),
        (
            &["read-data", "-a", a, "--di", "D120", "--ser", "7"],
            "FE FE 68 10 78 56 34 12 00 01 00 01 03 D1 20 07 89 16",
        ),
        (
            &["read-address", "--ser", "3"],
            "FE FE 68 10 AA AA AA AA AA AA AA 03 03 81 0A 03 B2 16",
        ),
        (
            &["valve", "-a", a, "--close", "--ser", "4"],
            "FE FE 68 10 78 56 34 12 00 01 00 04 04 A0 17 04 99 E9 16",
        ),
        (
            &[
                "set-time",
                "-a",
                a,
                "--time",
                "2025-06-01T12:00:00",
                "--ser",
                "8",
            ],
            "FE FE 68 10 78 56 34 12 00 01 00 04 0A A0 15 08 00 00 12 01 06 25 20 B6 16",
        ),
        (
            &["valve", "-a", a, "--open"],
            "FE FE 68 10 78 56 34 12 00 01 00 04 04 A0 17 00 55 A1 16",
        ),
        (
            &["write-address", "-a", a, "--new", "00010012345679"],
            "FE FE 68 10 78 56 34 12 00 01 00 15 0A A0 18 00 79 56 34 12 00 01 00 7A 16",
        ),
        (
            &["sync", "-a", a, "--value", "1234.5", "--meter-type", "0x10"],
            "FE FE 68 10 78 56 34 12 00 01 00 16 08 A0 16 00 50 34 12 00 2C 23 16",
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["encode", "cjt188"];
        full.extend_from_slice(args);
        let frame = run_ok(&full);
        assert_eq!(frame, want, "{args:?}");
        // Every request decodes, and its JSON encodes back to the same bytes.
        let json = run_ok(&["decode", &frame]);
        assert_eq!(run_ok(&["encode", "json", &json]), frame, "{args:?}");
    }
    assert_eq!(
        run_ok(&["encode", "cjt188", "settlement-day", "-a", a, "--day", "15"]),
        "FE FE 68 10 78 56 34 12 00 01 00 04 04 A0 11 00 15 5B 16"
    );
    // Bad arguments are refused.
    assert!(!run(&["encode", "cjt188", "valve", "-a", a])
        .status
        .success());
    assert!(
        !run(&["encode", "cjt188", "settlement-day", "-a", a, "--day", "32"])
            .status
            .success()
    );
    assert!(!run(&[
        "encode",
        "cjt188",
        "read-data",
        "-a",
        "12AB",
        "--di",
        "901F"
    ])
    .status
    .success());

    let e2 = "FE FE 68 10 78 56 34 12 00 01 00 81 16 90 1F 01 56 34 12 00 2C 00 00 12 00 2C 00 30 08 15 03 25 20 00 00 6F 16";
    assert_eq!(run_ok(&["decode", e2]), json_of(e2));
    let table = run_ok(&["decode", "--format", "table", e2]);
    assert!(
        table.contains("cjt188 read_data reply  address=00010012345678"),
        "{table}"
    );
    assert!(table.contains("1234.56"), "{table}");
    let explain = run_ok(&["explain", e2]);
    assert!(explain.contains("records[0].unit"), "{explain}");
    // DL/T 645: the error object of design §3, exit status 1.
    let out = run(&[
        "decode",
        "FE FE FE FE 68 78 56 34 12 00 00 68 11 04 33 33 34 33 C6 16",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out)
        .starts_with(r#"{"error":{"kind":"unsupported","offset":4,"message":"a DL/T 645"#));
}

/// `decode --cjt188-di-order lo-hi` reads vendor DIs low byte first.
#[test]
fn cjt188_di_order_option() {
    let frame = "68 10 78 56 34 12 00 01 00 81 06 12 34 1B 01 02 03 7B 16";
    let default = stdout(&run(&["decode", frame]));
    assert!(
        default.contains(r#""di":"0x1234","di_order":"hi_lo""#),
        "{default}"
    );
    let lo_hi = stdout(&run(&["decode", "--cjt188-di-order", "lo-hi", frame]));
    assert!(
        lo_hi.contains(r#""di":"0x3412","di_order":"lo_hi""#),
        "{lo_hi}"
    );
    assert!(!run(&["decode", "--cjt188-di-order", "sideways", frame])
        .status
        .success());
}

/// A file of `profiles/` (the example register profiles).
fn profile(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../profiles")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `--request` gives a Modbus read response its addresses and `--profile` reads its registers
/// (digest M1/M2: the word-swapped float -12.5), over RTU and TCP.
#[test]
fn modbus_request_and_profile() {
    let ultrasonic = profile("ultrasonic-f32-cdab.json");
    let record = r#""records":[{"quantity":"volume_flow","value":-12.5,"exact":"-12.5","unit":"m3/h","label":"flow","address":0,"raw":{"data":"0000C148"}}]"#;
    let rtu = run(&[
        "decode",
        "--protocol",
        "modbus_rtu",
        "--request",
        "01 03 00 00 00 02 C4 0B",
        "--profile",
        &ultrasonic,
        "01 03 04 00 00 C1 48 AB 95",
    ]);
    assert!(rtu.status.success());
    let text = stdout(&rtu);
    assert!(text.contains(record), "{text}");
    assert!(!text.contains("warnings"), "{text}");
    let tcp = run(&[
        "decode",
        "--protocol",
        "modbus_tcp",
        "--request",
        "00 01 00 00 00 06 01 03 00 00 00 02",
        "--profile",
        &ultrasonic,
        "00 01 00 00 00 07 01 03 04 00 00 C1 48",
    ]);
    assert!(tcp.status.success());
    assert!(stdout(&tcp).contains(record), "{}", stdout(&tcp));
    // The request alone: plain registers with addresses.
    let plain = stdout(&run(&[
        "decode",
        "--protocol",
        "modbus_rtu",
        "--request",
        "01 03 00 00 00 02 C4 0B",
        "01 03 04 00 00 C1 48 AB 95",
    ]));
    assert!(
        plain.contains(r#"{"quantity":"holding_register","value":49480.0,"exact":"49480","address":1,"raw":{"data":"C148"}}"#),
        "{plain}"
    );
    // Digest M4 with the electromagnetic (ABCD) profile's total at register 4: a request
    // from 4, 0012 D687 = 1234567 x 0.001 m3.
    let em = stdout(&run(&[
        "decode",
        "--protocol",
        "modbus_rtu",
        "--format",
        "table",
        "--request",
        "11 03 00 04 00 02 87 5A",
        "--profile",
        &profile("electromagnetic-u32-abcd.json"),
        "11 03 04 00 12 D6 87 55 F5",
    ]));
    assert!(em.contains("1234.567"), "{em}");
    assert!(em.contains("forward_total address=4"), "{em}");
}

/// Requests that do not fit are warnings (exit 0); a bad request or profile is a usage error.
#[test]
fn modbus_request_mismatch_and_bad_profiles() {
    let out = run(&[
        "decode",
        "--protocol",
        "modbus_rtu",
        "--request",
        "01 04 00 00 00 02 71 CB",
        "--profile",
        &profile("ultrasonic-f32-cdab.json"),
        "01 03 04 00 00 C1 48 AB 95",
    ]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("request option mismatch: the request is function 0x04 (read_input_registers), the response function 0x03 (read_holding_registers)"), "{text}");
    assert!(
        text.contains("modbus profile ultrasonic-f32-cdab: the registers have no addresses"),
        "{text}"
    );
    let bad_hex = run(&[
        "decode",
        "-p",
        "modbus_rtu",
        "--request",
        "01 0G",
        "01 03 04 00 00 C1 48 AB 95",
    ]);
    assert_eq!(bad_hex.status.code(), Some(2));
    let bad = temp_file(
        "bad-profile.json",
        br#"{"name": "x", "registers": [{"quantity": "volume", "address": 0, "type": "u24"}]}"#,
    );
    let out = run(&[
        "decode",
        "-p",
        "modbus_rtu",
        "--profile",
        bad.to_str().unwrap(),
        "01 03 04 00 00 C1 48 AB 95",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("modbus profile registers[0]: `type` is not one of"),
        "{err}"
    );
    let not_json = temp_file("not-json-profile.json", b"{\"name\": ");
    let out = run(&[
        "decode",
        "-p",
        "modbus_rtu",
        "--profile",
        not_json.to_str().unwrap(),
        "01 03 04 00 00 C1 48 AB 95",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not JSON"));
}

/// `meterwire encode modbus_rtu|modbus_tcp …` builds the digest's requests (M1, M3, M5, M6,
/// M8, M9, M11, M12, M13, M14, T1), and each decodes back to the same request with
/// `decode --protocol`.
#[test]
fn modbus_requests_encode_and_decode_back() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "modbus_rtu",
                "read-holding",
                "--unit",
                "1",
                "--start",
                "0",
                "--count",
                "2",
            ],
            "01 03 00 00 00 02 C4 0B",
        ),
        (
            // `modbus` alone is RTU (the issue's spelling).
            &[
                "modbus",
                "read-holding",
                "--unit",
                "1",
                "--start",
                "0",
                "--count",
                "10",
            ],
            "01 03 00 00 00 0A C5 CD",
        ),
        (
            &[
                "modbus-rtu",
                "write-register",
                "-u",
                "1",
                "--address",
                "10",
                "--value",
                "1",
            ],
            "01 06 00 0A 00 01 68 08",
        ),
        (
            &[
                "modbus_rtu",
                "write-registers",
                "-u",
                "1",
                "--start",
                "1",
                "--values",
                "10,0x0102",
            ],
            "01 10 00 01 00 02 04 00 0A 01 02 92 30",
        ),
        (
            &[
                "modbus_rtu",
                "write-coil",
                "--unit",
                "1",
                "--address",
                "3",
                "--on",
            ],
            "01 05 00 03 FF 00 7C 3A",
        ),
        (
            &[
                "modbus_rtu",
                "read-coils",
                "--unit",
                "1",
                "--start",
                "0",
                "--count",
                "8",
            ],
            "01 01 00 00 00 08 3D CC",
        ),
        (
            &["modbus_rtu", "read-device-id", "--unit", "1"],
            "01 2B 0E 01 00 70 77",
        ),
        (
            &[
                "modbus_rtu",
                "write-coils",
                "-u",
                "1",
                "--start",
                "0",
                "--coils",
                "1,0,1,1,0,0,1,1,1,0",
            ],
            "01 0F 00 00 00 0A 02 CD 01 70 68",
        ),
        (
            &[
                "modbus_rtu",
                "read-input",
                "--unit",
                "1",
                "--start",
                "0",
                "--count",
                "2",
            ],
            "01 04 00 00 00 02 71 CB",
        ),
        (
            &[
                "modbus_rtu",
                "read-discrete-inputs",
                "--unit",
                "1",
                "--start",
                "0",
                "--count",
                "16",
            ],
            "01 02 00 00 00 10 79 C6",
        ),
        (
            &[
                "modbus_tcp",
                "read-holding",
                "--unit",
                "1",
                "--start",
                "0",
                "--count",
                "2",
                "--transaction",
                "1",
            ],
            "00 01 00 00 00 06 01 03 00 00 00 02",
        ),
        (
            &[
                "modbus_tcp",
                "--transaction",
                "0x1234",
                "write-register",
                "-u",
                "0xFF",
                "--address",
                "100",
                "--value",
                "1234",
            ],
            "12 34 00 00 00 06 FF 06 00 64 04 D2",
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["encode"];
        full.extend_from_slice(args);
        let frame = run_ok(&full);
        assert_eq!(&frame, want, "{args:?}");
        // Decoded back: the request, with the parameters it was built from.
        let protocol = match args[0] {
            "modbus" => String::from("modbus_rtu"),
            other => other.replace('-', "_"),
        };
        let json = run_ok(&["decode", "--protocol", &protocol, &frame]);
        let d: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(d.get("warnings").is_none(), "{json}");
        let direction = d["link"]["direction"].as_str().unwrap();
        assert!(matches!(direction, "request" | "request_or_echo"), "{json}");
        let model = run_ok(&["encode", "json", &json]);
        assert_eq!(&model, want);
    }
    // Out of range: an error, exit status 1.
    let out = run(&[
        "encode",
        "modbus_rtu",
        "read-holding",
        "-u",
        "1",
        "--start",
        "0",
        "--count",
        "126",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("quantity"));
    let out = run(&[
        "encode",
        "modbus_rtu",
        "write-coil",
        "-u",
        "1",
        "--address",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(2), "--on or --off is required");
}

/// `meterwire simulate` in one process, `meterwire read` and `meterwire scan` against it: the
/// README's walk-through, over loopback, with bounded waits and the simulator killed at the end.
#[test]
fn simulate_read_and_scan_over_loopback() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let meters = concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/mbus-bus.ndjson");
    /// Kills the simulator however the test ends.
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sim = Killed(
        Command::new(env!("CARGO_BIN_EXE_meterwire"))
            .args(["simulate", "--listen", "127.0.0.1:0", "--meters", meters])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the simulator starts"),
    );
    let stderr = sim.0.stderr.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let banner = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the simulator says where it listens");
    let address = banner
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .expect("an address in the banner")
        .to_owned();
    assert!(banner.contains("simulating 5 meter(s)"), "{banner}");

    let line = |out: &Output| stdout(out).trim_end().to_owned();
    // By primary address: the meter's RSP_UD exactly as `meterwire decode` prints it.
    let out = run(&[
        "read",
        "--tcp",
        &address,
        "--address",
        "1",
        "--timeout",
        "300",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let expected = std::fs::read_to_string(meters).unwrap();
    assert_eq!(line(&out), expected.lines().next().unwrap());
    // By secondary address (ID only: the rest wildcards).
    let out = run(&[
        "read",
        "--tcp",
        &address,
        "--secondary",
        "40000001",
        "--timeout",
        "300",
    ]);
    let v: serde_json::Value = serde_json::from_str(&line(&out)).expect("JSON");
    assert_eq!(v["meter"]["id"], "40000001");
    assert_eq!(v["records"][0]["exact"], "4000.001");
    // Two telegrams, one reading: volume now and the stored value of the second telegram.
    let out = run(&[
        "read",
        "--tcp",
        &address,
        "--address",
        "5",
        "--format",
        "csv",
    ]);
    let rows: Vec<String> = stdout(&out).lines().skip(1).map(str::to_owned).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows[0].contains("42.000") && rows[2].contains("40.500"),
        "{rows:?}"
    );
    // The scan: five meters, as many NDJSON lines; 81 select probes on this bus
    // (mbus-tables.md §14.4 counts the same for these IDs).
    let out = run(&[
        "scan",
        "--tcp",
        &address,
        "--timeout",
        "40",
        "--retries",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mut ids: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("NDJSON")["id"].to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "\"00000042\"",
            "\"12345678\"",
            "\"12345679\"",
            "\"12399999\"",
            "\"40000001\""
        ]
    );
    let summary = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        summary.contains("5 meter(s)") && summary.contains("(81 select probes)"),
        "{summary}"
    );
    // Nothing listening: the error says what was tried.
    drop(sim);
    let out = run(&["read", "--tcp", &address, "--address", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

/// `meterwire encode iec62056-21 …` builds the digest's messages (I1, I2, I3, I4, I5, I6, I8,
/// I9, I10, I12, I13; BCCs as the digest gives them); each decodes back as IEC 62056-21 and
/// its JSON encodes back to the same bytes.
#[test]
fn encode_iec62056_21_messages() {
    let cases: &[(&[&str], &str)] = &[
        (&["sign-on"], "2F 3F 21 0D 0A"),
        (
            &["sign-on", "--address", "12345678"],
            "2F 3F 31 32 33 34 35 36 37 38 21 0D 0A",
        ),
        (
            &[
                "identification",
                "--manufacturer",
                "XYZ",
                "--ident",
                "WM100-A1",
            ],
            "2F 58 59 5A 35 57 4D 31 30 30 2D 41 31 0D 0A",
        ),
        (
            &[
                "identification",
                "--manufacturer",
                "XYz",
                "--enhanced-id",
                "2",
                "--ident",
                "WM100-A1",
            ],
            "2F 58 59 7A 35 5C 32 57 4D 31 30 30 2D 41 31 0D 0A",
        ),
        (&["option-select"], "06 30 35 30 0D 0A"),
        (
            &["option-select", "--baud", "9600", "--mode", "programming"],
            "06 30 35 31 0D 0A",
        ),
        (
            &["password", "--type", "0", "--password", "1234567"],
            "01 50 30 02 28 31 32 33 34 35 36 37 29 03 50",
        ),
        (
            &["password", "--password", "00000000"],
            "01 50 31 02 28 30 30 30 30 30 30 30 30 29 03 61",
        ),
        (
            &["read", "--address", "8.0"],
            "01 52 31 02 38 2E 30 28 29 03 45",
        ),
        (
            &["write", "--address", "0.9.1", "--value", "120000"],
            "01 57 31 02 30 2E 39 2E 31 28 31 32 30 30 30 30 29 03 5D",
        ),
        (&["break"], "01 42 30 03 71"),
        (&["ack"], "06"),
        (&["nak"], "15"),
        (&["error", "--text", "ER12"], "02 28 45 52 31 32 29 03 16"),
        (&["sign-on", "--parity"], "AF 3F 21 8D 0A"),
    ];
    for (args, want) in cases {
        let mut full = vec!["encode", "iec62056-21"];
        full.extend_from_slice(args);
        let frame = run_ok(&full);
        assert_eq!(frame, *want, "{args:?}");
        let json = run_ok(&["decode", &frame]);
        let model: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(model["protocol"], "iec62056_21", "{args:?}");
        assert_eq!(run_ok(&["encode", "json", &json]), frame, "{args:?}");
    }
    // A readout from data sets decodes to their values.
    let frame = run_ok(&[
        "encode",
        "iec62056_21",
        "readout",
        "0.0.0=12345678",
        "8.0=001234.567*m3",
    ]);
    let json = run_ok(&["decode", "--protocol", "iec62056-21", &frame]);
    let model: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(model["records"][1]["exact"], "1234.567");
    assert_eq!(model["records"][1]["unit"], "m3");
    // Bad arguments are refused.
    assert!(
        !run(&["encode", "iec62056-21", "sign-on", "--address", "a!b"])
            .status
            .success()
    );
    assert!(
        !run(&["encode", "iec62056-21", "option-select", "--baud", "1234"])
            .status
            .success()
    );
    assert!(!run(&["encode", "iec62056-21", "readout", "8.0"])
        .status
        .success());
}

/// CJ/T 188 digest E2 (a read_data reply: 1234.56 m3).
const CJT188_E2: &str =
    "FEFE6810785634120001008116901F01563412002C000012002C0030081503252000006F16";

/// The issue's end-to-end cases: a CJ/T 188 reply inside a CoAP NON POST (digest MB1) and
/// an M-Bus frame inside an MQTT PUBLISH (one- and two-byte remaining length) decode into
/// the nested model; `encode coap|mqtt` builds them around an encoded payload.
#[test]
fn coap_and_mqtt_carry_nested_frames() {
    let built = run(&[
        "encode",
        "coap",
        "--type",
        "NON",
        "--code",
        "POST",
        "--message-id",
        "0x1234",
        "--token",
        "A1B2",
        "--path",
        "/t/d",
        "--content-format",
        "42",
        "--payload",
        CJT188_E2,
    ]);
    assert!(built.status.success(), "{built:?}");
    let mb1 = stdout(&built).trim().to_string();
    assert_eq!(
        bytes(&mb1),
        bytes(&format!("52021234A1B2B1740164112AFF{CJT188_E2}"))
    );
    let out = run(&["decode", &mb1]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), json_of(&mb1) + "\n");
    let model: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(model["protocol"], "coap");
    assert_eq!(model["link"]["uri_path"], "/t/d");
    assert_eq!(model["payload"]["protocol"], "cjt188");
    assert_eq!(model["payload"]["records"][0]["exact"], "1234.56");

    let topic = "$oc/devices/860000000000001_watermeter/sys/messages/up";
    for (topic, rl) in [("meters/12345678/up", "2F"), (topic, "80 01")] {
        let long = if rl.len() > 2 {
            format!("{topic}/{}", "x".repeat(128 - 2 - 27 - topic.len() - 1))
        } else {
            topic.to_string()
        };
        let built = run(&["encode", "mqtt", "--topic", &long, "--payload", RSP_UD]);
        assert!(built.status.success(), "{built:?}");
        let packet = stdout(&built).trim().to_string();
        assert!(packet.starts_with(&format!("30 {rl}")), "{packet}");
        let out = run(&["decode", &packet]);
        let model: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(model["protocol"], "mqtt");
        assert_eq!(model["link"]["topic"], long.as_str());
        assert_eq!(model["payload"]["protocol"], "mbus");
        assert_eq!(model["payload"]["meter"]["id"], "12345678");
        assert_eq!(model["payload"]["records"][0]["exact"], "1234.567");
        // explain walks into the payload.
        let out = run(&["explain", &packet]);
        assert!(
            stdout(&out).contains("payload.records[0]"),
            "{}",
            stdout(&out)
        );
    }
}

#[test]
fn mqtt_version_option_reads_properties() {
    // PUBLISH "m/1", property length 2: payload format indicator 1; payload 7B 7D.
    let packet = "30 0A 00 03 6D 2F 31 02 01 01 7B 7D";
    let out = run(&[
        "decode",
        "--protocol",
        "mqtt",
        "--mqtt-version",
        "5.0",
        packet,
    ]);
    let model: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(model["link"]["version"], "5.0");
    assert_eq!(
        model["link"]["properties"][0]["name"],
        "payload_format_indicator"
    );
    assert_eq!(model["link"]["payload_format"], "json");
    let out = run(&["decode", "--protocol", "mqtt", packet]);
    let model: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(model["link"]["version"], "3.1.1");
    let out = run(&["decode", "--mqtt-version", "4.0", packet]);
    assert_eq!(out.status.code(), Some(2));
    let built = run(&[
        "encode",
        "mqtt",
        "--topic",
        "m/1",
        "--mqtt-version",
        "5.0",
        "--payload",
        "7B7D",
    ]);
    assert_eq!(stdout(&built).trim(), "30 08 00 03 6D 2F 31 00 7B 7D");
}

#[test]
fn cipher_option_opens_encrypted_payloads() {
    // mqtt.jsonl mqtt-publish-sm4-cbc-no-key: CJ/T 188 E2 under SM4-CBC, GB/T 32907's key.
    let packet = "304400126D65746572732F31323334353637382F75705E8E041740C738E52AD53E0A413A8EE47C828C35E7A2AA317BF3EBD0AA52FA732B525ACFA25DC56BC9817C086C67A064";
    let out = run(&[
        "decode",
        "--cipher",
        "sm4-cbc",
        "--keys",
        "12345678=0123456789ABCDEFFEDCBA9876543210",
        packet,
    ]);
    assert!(out.status.success(), "{out:?}");
    let model: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(model["payload"]["records"][0]["exact"], "1234.56");
    assert!(!stdout(&out).contains("0123456789ABCDEF"));
    let out = run(&[
        "decode",
        "--cipher",
        "sm4-cbc",
        "--key",
        &"00".repeat(16),
        packet,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(r#""kind":"decrypt","offset":22"#),
        "{}",
        stdout(&out)
    );
    let out = run(&["decode", "--cipher", "rot13", packet]);
    assert_eq!(out.status.code(), Some(2));
}

/// `--redact-key FILE`: the meter id becomes the HMAC-SHA256 pseudonym under the file's bytes
/// (value from Python: `hmac.new(bytes(range(32)), b"12345678", "sha256").hexdigest()[:24]`)
/// in every format, and a key shorter than 16 bytes is refused without echoing it.
#[test]
fn redact_key_replaces_the_meter_id_in_every_format() {
    let key = temp_file("redact.key", &(0u8..32).collect::<Vec<_>>());
    for format in ["json", "table", "csv"] {
        let out = run(&[
            "decode",
            "--format",
            format,
            "--redact-key",
            key.to_str().unwrap(),
            RSP_UD,
        ]);
        let text = stdout(&out);
        assert!(
            text.contains("b2be66f797c511bd2a34dfb0"),
            "{format}: {text}"
        );
        assert!(!text.contains("12345678"), "{format}: {text}");
    }
    let short = temp_file("short.key", b"secret");
    let out = run(&["decode", "--redact-key", short.to_str().unwrap(), "E5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret\n"));
}
