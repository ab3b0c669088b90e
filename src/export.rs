//! A plan's progress as files for people: CSV that Excel opens with Vietnamese intact
//! (UTF-8 with a byte-order mark) and an XLSX workbook with a summary sheet and a
//! per-unit sheet. Pure formatting: no database, no gRPC.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::domain::task::TaskState;
use crate::service::progress::PlanProgress;

/// The byte-order mark that tells Excel a CSV file is UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn state_label(state: TaskState) -> &'static str {
    match state {
        TaskState::NotStarted => "Chưa thực hiện",
        TaskState::InProgress => "Đang thực hiện",
        TaskState::ReportedDone => "Đã báo cáo hoàn thành",
        TaskState::Done => "Hoàn thành",
        TaskState::Suspended => "Tạm dừng",
        TaskState::ClosedNotDone => "Không thực hiện được",
    }
}

/// The summary as (label, value) rows, shared by both formats.
fn summary_rows(p: &PlanProgress) -> Vec<(String, String)> {
    let mut rows = vec![
        ("Kế hoạch".to_owned(), format!("{} - {}", p.plan.document_ref, p.plan.title)),
        ("Tính đến".to_owned(), p.as_of.format("%Y-%m-%d %H:%M UTC").to_string()),
        ("Tổng số nhiệm vụ".to_owned(), p.total.to_string()),
        ("Hoàn thành đúng hạn".to_owned(), p.on_time_done.to_string()),
        ("Hoàn thành quá hạn".to_owned(), p.late_done.to_string()),
        ("Đang thực hiện trong hạn".to_owned(), p.open_within_deadline.to_string()),
        ("Đang thực hiện quá hạn".to_owned(), p.open_overdue.to_string()),
        ("Tỷ lệ hoàn thành (%)".to_owned(), format!("{:.1}", p.completion_rate_percent)),
    ];
    rows.extend(p.by_state.iter().map(|(state, n)| (state_label(*state).to_owned(), n.to_string())));
    rows.push(("Báo cáo còn thiếu".to_owned(), p.missing.len().to_string()));
    rows
}

const UNIT_HEADER: [&str; 8] = [
    "Mã đơn vị",
    "Tên đơn vị",
    "Số nhiệm vụ chủ trì",
    "Hoàn thành đúng hạn",
    "Hoàn thành quá hạn",
    "Đang thực hiện",
    "Quá hạn",
    "Báo cáo còn thiếu",
];

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn csv_line(out: &mut String, fields: &[String]) {
    out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
}

/// The progress as CSV: the summary, a blank line, then one row per unit.
pub fn to_csv(p: &PlanProgress) -> Vec<u8> {
    let mut text = String::new();
    csv_line(&mut text, &["Chỉ tiêu".into(), "Giá trị".into()]);
    for (label, value) in summary_rows(p) {
        csv_line(&mut text, &[label, value]);
    }
    text.push_str("\r\n");
    csv_line(&mut text, &UNIT_HEADER.map(str::to_owned));
    for u in &p.units {
        csv_line(
            &mut text,
            &[
                format!("units/{}", u.unit_id),
                u.display_name.clone(),
                u.tasks.to_string(),
                u.done_on_time.to_string(),
                u.done_late.to_string(),
                u.open.to_string(),
                u.overdue.to_string(),
                u.reports_missing.to_string(),
            ],
        );
    }
    let mut bytes = BOM.to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// The progress as an XLSX workbook: sheet "Tổng hợp" (summary) and "Theo đơn vị" (per unit).
pub fn to_xlsx(p: &PlanProgress) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();

    let summary = workbook.add_worksheet();
    summary.set_name("Tổng hợp")?;
    summary.write_string_with_format(0, 0, "Chỉ tiêu", &bold)?;
    summary.write_string_with_format(0, 1, "Giá trị", &bold)?;
    for (i, (label, value)) in summary_rows(p).into_iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        summary.write_string(row, 0, label)?;
        match value.parse::<f64>() {
            Ok(number) => summary.write_number(row, 1, number)?,
            Err(_) => summary.write_string(row, 1, value)?,
        };
    }
    summary.set_column_width(0, 32)?;
    summary.set_column_width(1, 60)?;

    let units = workbook.add_worksheet();
    units.set_name("Theo đơn vị")?;
    for (col, title) in UNIT_HEADER.iter().enumerate() {
        units.write_string_with_format(0, col as u16, *title, &bold)?;
    }
    for (i, u) in p.units.iter().enumerate() {
        let row = u32::try_from(i + 1).unwrap_or(u32::MAX);
        units.write_string(row, 0, format!("units/{}", u.unit_id))?;
        units.write_string(row, 1, &u.display_name)?;
        for (col, n) in
            [u.tasks, u.done_on_time, u.done_late, u.open, u.overdue, u.reports_missing].into_iter().enumerate()
        {
            units.write_number(row, (col + 2) as u16, n as f64)?;
        }
    }
    units.set_column_width(0, 24)?;
    units.set_column_width(1, 48)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("Sở Nội vụ"), "Sở Nội vụ");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
