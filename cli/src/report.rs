//! Rendering diagnostics for people: code frames in the terminal, plain text in logs.

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
    /// Colours only on a terminal, and never under CI or `NO_COLOR`.
    pub fn detect(is_terminal: bool) -> Self {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if is_terminal && !ci && !no_color {
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
