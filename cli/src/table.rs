//! The plain-text tables every `nextr` command prints: a header line, then one line a row,
//! each column padded to its widest cell, two spaces between columns, no trailing spaces.
//!
//! Widths count `char`s, not bytes, so that `→` and `é` take one column as a terminal shows
//! them; no command prints wide (CJK) or combining characters in a cell.

use std::fmt;

use crate::report::Shown;

/// Which side of a column its cells keep to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Figures: padded on the left, so that units line up.
    Right,
}

/// One column: its header, its alignment and the spaces that separate it from the previous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    header: String,
    align: Align,
    gap: usize,
}

impl Column {
    /// A column of text.
    pub fn left(header: &str) -> Self {
        Column {
            header: header.to_owned(),
            align: Align::Left,
            gap: 2,
        }
    }

    /// A column of figures.
    pub fn right(header: &str) -> Self {
        Column {
            align: Align::Right,
            ..Column::left(header)
        }
    }

    /// Separates this column from the previous one by `spaces` instead of two (a column of
    /// one-character marks reads as part of the next).
    pub fn gap(mut self, spaces: usize) -> Self {
        self.gap = spaces;
        self
    }
}

/// A table to print: columns, rows of cells, and an indent; `Display` lays it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    indent: usize,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: impl IntoIterator<Item = Column>) -> Self {
        Table {
            columns: columns.into_iter().collect(),
            rows: Vec::new(),
            indent: 0,
        }
    }

    /// Indents every line by `spaces` (a table under a heading).
    pub fn indent(mut self, spaces: usize) -> Self {
        self.indent = spaces;
        self
    }

    /// Adds a row: one cell a column, in order (a missing cell is empty, an extra one is
    /// dropped).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        // Cells often hold file names and pages: escaped here, before widths are measured.
        let mut cells: Vec<String> = cells
            .into_iter()
            .map(|c| Shown(c.into()).to_string())
            .collect();
        cells.resize(self.columns.len(), String::new());
        self.rows.push(cells);
    }

    /// The lines of the table, header first, without line ends.
    pub fn lines(&self) -> Vec<String> {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                self.rows
                    .iter()
                    .map(|row| width(&row[i]))
                    .fold(width(&column.header), usize::max)
            })
            .collect();
        let header: Vec<&str> = self.columns.iter().map(|c| c.header.as_str()).collect();
        std::iter::once(header)
            .chain(
                self.rows
                    .iter()
                    .map(|row| row.iter().map(String::as_str).collect()),
            )
            .map(|cells| self.line(&cells, &widths))
            .collect()
    }

    fn line(&self, cells: &[&str], widths: &[usize]) -> String {
        let mut line = " ".repeat(self.indent);
        for (i, ((column, cell), w)) in self.columns.iter().zip(cells).zip(widths).enumerate() {
            if i > 0 {
                line.push_str(&" ".repeat(column.gap));
            }
            let padding = " ".repeat(w.saturating_sub(width(cell)));
            match column.align {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&padding);
                }
                Align::Right => {
                    line.push_str(&padding);
                    line.push_str(cell);
                }
            }
        }
        line.truncate(line.trim_end().len());
        line
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in self.lines() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// The columns a cell takes.
fn width(cell: &str) -> usize {
    cell.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_aligned() {
        let mut table = Table::new([Column::left("Route"), Column::right("Size")]);
        table.row(["/api/hello", "1.2 KB"]);
        table.row(["/", "800 B"]);
        assert_eq!(
            table.to_string(),
            "Route         Size\n/api/hello  1.2 KB\n/            800 B\n"
        );
    }

    #[test]
    fn widths_count_chars_not_bytes() {
        let mut table = Table::new([Column::left("Name"), Column::left("Change")]);
        table.row(["café", "create → a"]);
        table.row(["x", "y"]);
        assert_eq!(
            table.lines(),
            ["Name  Change", "café  create → a", "x     y"]
        );
    }

    #[test]
    fn trailing_spaces_are_trimmed_and_empty_cells_pad() {
        let mut table = Table::new([Column::left("A"), Column::left("B"), Column::left("C")]);
        table.row(["wide cell", "", ""]);
        table.row(["", "b", "c  "]);
        assert_eq!(
            table.lines(),
            ["A          B  C", "wide cell", "           b  c"]
        );
    }

    #[test]
    fn indent_gap_and_missing_cells() {
        let mut table = Table::new([
            Column::left(" "),
            Column::left("Resource").gap(1),
            Column::left("Name"),
        ])
        .indent(2);
        table.row(["+", "route"]);
        table.row(["-", "http api", "demo", "dropped"]);
        assert_eq!(
            table.to_string(),
            "    Resource  Name\n  + route\n  - http api  demo\n"
        );
    }

    #[test]
    fn a_table_without_rows_is_its_header() {
        let table = Table::new([Column::left("Route"), Column::right("Memory")]);
        assert_eq!(table.to_string(), "Route  Memory\n");
    }
}
