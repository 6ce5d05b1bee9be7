//! The `csv` format: one row per record (RFC 4180 quoting, `\n` line ends).

use meterwire::{Decoded, Protocol, Record};

use crate::table::{name, value};
use crate::{Frame, Garbage};

/// The columns, in order.
const COLUMNS: [&str; 16] = [
    "frame",
    "protocol",
    "meter_id",
    "manufacturer",
    "medium",
    "quantity",
    "value",
    "exact",
    "unit",
    "storage",
    "tariff",
    "subunit",
    "function",
    "modifiers",
    "label",
    "error",
];

/// The header row.
pub fn header() -> String {
    let mut line = COLUMNS.join(",");
    line.push('\n');
    line
}

/// Writes the rows of frame number `number`: one per record (those of a nested payload
/// too), one with empty record columns for a frame without records, or one error row.
/// `protocol` is the `--protocol` given, shown on error rows.
pub fn frame(out: &mut String, number: usize, frame: &Frame, protocol: Option<Protocol>) {
    let number = number.to_string();
    match &frame.result {
        Ok(decoded) => {
            let mut level: Option<&Decoded> = Some(decoded);
            let mut wrote = false;
            while let Some(d) = level {
                for record in &d.records {
                    row(out, &record_row(&number, d, Some(record)));
                    wrote = true;
                }
                level = d.payload.as_deref();
            }
            if !wrote {
                row(out, &record_row(&number, decoded, None));
            }
        }
        Err(error) => {
            let mut cells: [String; 16] = Default::default();
            cells[0] = number;
            cells[1] = protocol.map(|p| p.as_str().to_owned()).unwrap_or_default();
            cells[15] = format!("{} at byte {}: {error}", error.kind(), error.offset());
            row(out, &cells);
        }
    }
}

/// Writes a row for bytes between frames: no frame number, the span in `error`.
pub fn garbage(out: &mut String, garbage: &Garbage) {
    let mut cells: [String; 16] = Default::default();
    cells[15] = format!(
        "garbage at bytes {}..{} ({}): {}",
        garbage.start,
        garbage.end,
        garbage.reason,
        meterwire::hex::to_hex(&garbage.bytes)
    );
    row(out, &cells);
}

/// The cells of one record of `d` (or of the frame alone).
fn record_row(number: &str, d: &Decoded, record: Option<&Record>) -> [String; 16] {
    let meter = d.meter.as_ref();
    let mut cells: [String; 16] = Default::default();
    cells[0] = number.to_owned();
    cells[1] = d.protocol.as_str().to_owned();
    cells[2] = meter.map(|m| m.id.to_string()).unwrap_or_default();
    cells[3] = meter
        .and_then(|m| {
            m.manufacturer
                .as_ref()
                .map(|t| t.to_string())
                .or_else(|| m.manufacturer_code.map(|c| c.to_string()))
        })
        .unwrap_or_default();
    cells[4] = meter
        .and_then(|m| {
            m.medium
                .as_ref()
                .map(|t| t.to_string())
                .or_else(|| m.medium_code.map(|c| c.to_string()))
        })
        .unwrap_or_default();
    if let Some(r) = record {
        cells[5] = r.quantity().to_string();
        // `value` as the JSON model writes it (a number read from `exact`, or text);
        // `exact` the exact decimal of numbers.
        cells[6] = json_value(r).unwrap_or_else(|| r.value().map(value).unwrap_or_default());
        cells[7] = r.number().map(|d| d.to_string()).unwrap_or_default();
        cells[8] = r
            .unit()
            .or(r.unit_text())
            .map(str::to_owned)
            .unwrap_or_default();
        cells[9] = r.storage().map(|v| v.to_string()).unwrap_or_default();
        cells[10] = r.tariff().map(|v| v.to_string()).unwrap_or_default();
        cells[11] = r.subunit().map(|v| v.to_string()).unwrap_or_default();
        cells[12] = r.function().as_ref().map(name).unwrap_or_default();
        cells[13] = r
            .modifiers()
            .iter()
            .map(|m| m.as_ref())
            .collect::<Vec<&str>>()
            .join(" ");
        cells[14] = r.label().map(|l| l.to_string()).unwrap_or_default();
    }
    cells
}

/// The record's `value` as its JSON text has it, strings without quotes.
fn json_value(r: &Record) -> Option<String> {
    match serde_json::to_value(r).ok()?.get("value")? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Writes one row, quoting cells that need it.
fn row(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ') {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut out = String::new();
        row(
            &mut out,
            &["a".into(), "b,c".into(), "say \"hi\"".into(), String::new()],
        );
        assert_eq!(out, "a,\"b,c\",\"say \"\"hi\"\"\",\n");
    }
}
