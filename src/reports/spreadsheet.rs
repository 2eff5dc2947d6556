//! CSV that is safe to open in a spreadsheet. Agencies open the reports in Excel or
//! LibreOffice, which run a cell that begins with `=`, `+`, `-` or `@` as a formula (and a
//! tab or carriage return can hide one): a subject such as `=cmd|' /C calc'!A0` must arrive
//! as text. Following OWASP's CSV-injection rule, such a cell is prefixed with `'`; a cell
//! that is a number (`-20`, `0.5`) stays a number.

use std::borrow::Cow;

/// The characters a spreadsheet may take as the start of a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet should see it: text that could be read as a formula gets a
/// leading `'`.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(FORMULA_STARTS) && !cell.parse::<f64>().is_ok_and(f64::is_finite);
    if risky {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV document whose every cell is neutralised.
pub struct SafeCsv {
    writer: csv::Writer<Vec<u8>>,
}

impl Default for SafeCsv {
    fn default() -> Self {
        SafeCsv {
            writer: csv::Writer::from_writer(Vec::new()),
        }
    }
}

impl SafeCsv {
    /// Appends one record.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|cell| neutralise(cell.as_ref()).into_owned())
            .collect();
        self.writer
            .write_record(&cells)
            .expect("writing to memory cannot fail");
    }

    /// The document as text.
    pub fn finish(self) -> String {
        let bytes = self
            .writer
            .into_inner()
            .expect("flushing memory cannot fail");
        String::from_utf8(bytes).expect("UTF-8 cells make UTF-8 CSV")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_quoted_and_numbers_are_left_alone() {
        for (cell, expected) in [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+SUM(1,1)", "'+SUM(1,1)"),
            ("@evil", "'@evil"),
            ("-1+1", "'-1+1"),
            ("\tcalc", "'\tcalc"),
            ("\r=1", "'\r=1"),
            ("-20 punti", "'-20 punti"),
            ("-20", "-20"),
            ("-0.5", "-0.5"),
            ("+3", "+3"),
            ("-inf", "'-inf"),
            ("Portale giù", "Portale giù"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn a_document_quotes_as_csv_after_neutralising() {
        let mut csv = SafeCsv::default();
        csv.row(["subject", "count"]);
        csv.row(["=HYPERLINK(\"http://x\",\"y\")", "3"]);
        assert_eq!(
            csv.finish(),
            "subject,count\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",3\n"
        );
    }
}
