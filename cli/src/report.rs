//! Rendering diagnostics for people: code frames in the terminal, plain text in logs.

use std::fmt;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

/// How a report is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStyle {
    /// Unicode frames with colours, for a terminal.
    Color,
    /// Unicode frames without colours: logs, CI (`CI=true`), snapshots.
    Plain,
}

impl ReportStyle {
    /// Colours only on a terminal, and never under CI, `NO_COLOR` or `TERM=dumb`; nothing
    /// forces them (`CLICOLOR_FORCE` does not: a pipe or a log never gets escape codes).
    pub fn detect(is_terminal: bool) -> Self {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if is_terminal && !ci && !no_color && !dumb {
            ReportStyle::Color
        } else {
            ReportStyle::Plain
        }
    }
}

/// Width of the drawn report, fixed so that output does not depend on the terminal.
const WIDTH: usize = 110;

/// Renders a diagnostic (and its related ones) with code frames.
pub fn render(diagnostic: &dyn Diagnostic, style: ReportStyle) -> String {
    let theme = match style {
        ReportStyle::Color => GraphicalTheme::unicode(),
        ReportStyle::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false);
    let mut out = String::new();
    // Writing into a String cannot fail; a failing Display impl would leave a partial report,
    // which is still better than none.
    let _ = handler.render_report(&mut out, diagnostic);
    out
}

/// Text from the file system (a file name, a path, a route pattern) as it may be printed on a
/// terminal: control characters, and the bidirectional overrides that reorder what a terminal
/// shows, escaped as Rust writes them (`\t`, `\n`, `\u{1b}`). A file name then cannot move the
/// cursor, recolour or hide output.
pub struct Shown<T>(pub T);

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Escaper {
            out: f,
            keep_newlines: false,
        };
        fmt::Write::write_fmt(&mut out, format_args!("{}", self.0))
    }
}

/// [`Shown`] keeping line breaks: a whole message laid out on several lines, whose parts may
/// come from file names.
pub struct ShownLines<T>(pub T);

impl<T: fmt::Display> fmt::Display for ShownLines<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Escaper {
            out: f,
            keep_newlines: true,
        };
        fmt::Write::write_fmt(&mut out, format_args!("{}", self.0))
    }
}

struct Escaper<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    keep_newlines: bool,
}

impl fmt::Write for Escaper<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(|c| self.escapes(c)) {
            self.out.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or_default();
            write!(self.out, "{}", c.escape_default())?;
            rest = &rest[i + c.len_utf8()..];
        }
        self.out.write_str(rest)
    }
}

impl Escaper<'_, '_> {
    fn escapes(&self, c: char) -> bool {
        (c.is_control() && !(self.keep_newlines && c == '\n'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        let name = "api/a\u{1b}[31mred\tb\n\u{202e}c.rs";
        assert_eq!(
            Shown(name).to_string(),
            r"api/a\u{1b}[31mred\tb\n\u{202e}c.rs"
        );
        assert_eq!(
            ShownLines(name).to_string(),
            "api/a\\u{1b}[31mred\\tb\n\\u{202e}c.rs"
        );
        assert_eq!(Shown("api/é → [id].rs").to_string(), "api/é → [id].rs");
    }
}
